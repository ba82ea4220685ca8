//! What lvsh checks when it loads a module: its `RECIPE` (a literal, well formed,
//! every entry point starting with `args`), and that importing it declares nothing.

use super::error::{Fail, Place, fail_at};
use super::key_place;
use super::recipe_schema::{Params, RecipeSchema, SchemaError};
use rhai::{AST, Dynamic, Position};

/// An author's error in a module or a `PARAMS`: where in its text, what, and a hint.
pub(crate) type AuthorError = (Option<(usize, usize)>, String, Option<String>);

/// A problem found in module `module` at a place of its text, reported at the
/// import (`importer`, `pos`) with a note at that place.
pub(crate) fn author_error(
    importer: &str,
    pos: Position,
    module: &str,
    at: Option<(usize, usize)>,
    message: String,
    help: Option<String>,
) -> Fail {
    let mut places = Vec::new();
    if let Some(line) = pos.line() {
        places.push(Place {
            file: importer.to_string(),
            line,
            column: pos.position().unwrap_or(1),
            label: "imported here".into(),
            note: None,
        });
    }
    if let Some((line, column)) = at {
        places.push(Place {
            file: module.to_string(),
            line,
            column,
            label: "here".into(),
            note: Some(format!("in {module}, the recipe's own error")),
        });
    }
    fail_at(message, help, places)
}

/// The literal constant `name` of `ast`: `None` when there is none, an error (with
/// its place) when it is there but not a literal.
fn literal_const(ast: &AST, text: &str, name: &str) -> Result<Option<Dynamic>, (usize, usize)> {
    if let Some((_, _, v)) = ast
        .iter_literal_variables(true, false)
        .find(|(n, ..)| *n == name)
    {
        return Ok(Some(v));
    }
    match text.find(&format!("const {name}")) {
        Some(i) => Err(key_place::line_col(text, i)),
        None => Ok(None),
    }
}

fn schema_error(
    text: &str,
    constant: &str,
    e: SchemaError,
) -> (Option<(usize, usize)>, String, Option<String>) {
    let at = key_place::declaration(text, constant, &e.path);
    (at, e.bad.message, e.bad.help)
}

/// The `RECIPE` of a module, checked: `Err((place, message, help))` for an author error.
pub(crate) fn read_recipe(ast: &AST, text: &str) -> Result<Option<RecipeSchema>, AuthorError> {
    let v = match literal_const(ast, text, "RECIPE") {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(None),
        Err(at) => {
            return Err((
                Some(at),
                "RECIPE is not a literal".to_string(),
                Some("write RECIPE as a map of literal values: lvsh reads it without running the module".into()),
            ));
        }
    };
    let schema = RecipeSchema::parse(&v).map_err(|e| schema_error(text, "RECIPE", e))?;
    for (entry, spec) in &schema.entries {
        let decl = key_place::declaration(text, "RECIPE", std::slice::from_ref(entry));
        match key_place::function(text, entry) {
            None => {
                return Err((
                    decl,
                    format!(
                        "RECIPE declares the entry point `{entry}`, but there is no `fn {entry}(p)`"
                    ),
                    None,
                ));
            }
            Some((at, first)) if !first.contains("args(") => {
                return Err((
                    Some(at),
                    format!("the entry point `{entry}` does not start with `let p = args(p);`"),
                    Some("args() checks the arguments against RECIPE and fills the defaults; make it the first line".into()),
                ));
            }
            Some(_) => {}
        }
        for check in &spec.checks {
            if key_place::function(text, check).is_none() {
                let at = key_place::declaration(text, "RECIPE", &[entry.clone(), "checks".into()]);
                return Err((
                    at,
                    format!("RECIPE names the check `{check}`, but there is no `fn {check}(p)`"),
                    None,
                ));
            }
        }
    }
    Ok(Some(schema))
}

/// The `PARAMS` of a site script, checked like a recipe's parameters.
pub(crate) fn read_params(ast: &AST, text: &str) -> Result<Option<Params>, AuthorError> {
    match literal_const(ast, text, "PARAMS") {
        Ok(Some(v)) => Params::parse(&v, &[])
            .map(Some)
            .map_err(|e| schema_error(text, "PARAMS", e)),
        Ok(None) => Ok(None),
        Err(at) => Err((
            Some(at),
            "PARAMS is not a literal".to_string(),
            Some("write PARAMS as a map of literal values: lvsh checks --set against it before running the script".into()),
        )),
    }
}
