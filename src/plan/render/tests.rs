#[test]
fn placeholder_render() {}
