/* dumpfloor SVC_LEN DEST_LEN [sockets]: the kernel's floor for reading IPVS,
 * as lvsh reads it: one GET_SERVICE dump, then one GET_DEST dump per service,
 * each service's identity copied from the first dump. SVC_LEN and DEST_LEN are
 * the lengths passed to recv() during each part: the kernel sizes every dump
 * datagram after the largest length a socket has ever passed (up to 32 KiB),
 * and with init_on_alloc zeroes each one. With `sockets` = 2 the destination
 * dumps run on a second socket, which has seen only DEST_LEN.
 * Prints the counts and each part's milliseconds. */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IPVS_CMD_GET_SERVICE 4
#define IPVS_CMD_GET_DEST 8
#define IPVS_CMD_ATTR_SERVICE 1
#define IPVS_SVC_ATTR_FWMARK 5

static char tx[4096];
static char rx[1 << 16];
static unsigned seq;

struct svc {
    unsigned short len;
    char attrs[64]; /* AF, PROTOCOL, ADDR, PORT or FWMARK: at most 52 bytes */
};

static int open_socket(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (fd < 0 || bind(fd, (void *)&sa, sizeof sa) < 0) {
        perror("socket");
        exit(1);
    }
    return fd;
}

/* A request of `cmd` to `family` with `payload` (attributes) appended. */
static size_t request(unsigned short family, unsigned char cmd, unsigned short flags,
                      const void *payload, size_t n) {
    struct nlmsghdr *h = (void *)tx;
    struct genlmsghdr *g = NLMSG_DATA(h);
    memset(tx, 0, NLMSG_HDRLEN + GENL_HDRLEN);
    h->nlmsg_type = family;
    h->nlmsg_flags = NLM_F_REQUEST | flags;
    h->nlmsg_seq = ++seq;
    g->cmd = cmd;
    g->version = 1;
    memcpy(tx + NLMSG_HDRLEN + GENL_HDRLEN, payload, n);
    h->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + n;
    return h->nlmsg_len;
}

/* Sends the request in `tx`, hands each answer's attributes to `each` until
 * NLMSG_DONE or an ACK; returns the number of answers. */
static int converse(int fd, size_t n, size_t recv_len,
                    void (*each)(const char *attrs, int len, void *ctx), void *ctx) {
    if (send(fd, tx, n, 0) != (ssize_t)n) {
        perror("send");
        exit(1);
    }
    int count = 0;
    for (;;) {
        ssize_t got = recv(fd, rx, recv_len, MSG_TRUNC);
        if (got < 0) {
            perror("recv");
            exit(1);
        }
        if ((size_t)got > recv_len) {
            fprintf(stderr, "a %zd-byte datagram did not fit in %zu\n", got, recv_len);
            exit(1);
        }
        int left = (int)got;
        for (struct nlmsghdr *h = (void *)rx; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return count;
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->error) {
                    fprintf(stderr, "the kernel answered: %s\n", strerror(-e->error));
                    exit(1);
                }
                return count;
            }
            count++;
            if (each) {
                int hl = NLMSG_HDRLEN + GENL_HDRLEN;
                each((char *)h + hl, (int)h->nlmsg_len - hl, ctx);
            }
        }
    }
}

static void family_id(const char *attrs, int len, void *ctx) {
    for (const struct nlattr *a = (const void *)attrs; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
         len -= NLA_ALIGN(a->nla_len), a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len)))
        if (a->nla_type == CTRL_ATTR_FAMILY_ID)
            memcpy(ctx, (const char *)a + NLA_HDRLEN, 2);
}

struct list {
    struct svc *v;
    int n, cap;
};

/* Keeps the identifying attributes of the service nest in a GET_SERVICE answer. */
static void keep_service(const char *attrs, int len, void *ctx) {
    struct list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    struct svc *s = &l->v[l->n++];
    s->len = 0;
    const struct nlattr *nest = (const void *)attrs;
    if ((nest->nla_type & NLA_TYPE_MASK) != IPVS_CMD_ATTR_SERVICE)
        return;
    int left = nest->nla_len - NLA_HDRLEN;
    for (const struct nlattr *a = (const void *)((const char *)nest + NLA_HDRLEN);
         left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
         left -= NLA_ALIGN(a->nla_len), a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
        if (a->nla_type <= IPVS_SVC_ATTR_FWMARK && s->len + NLA_ALIGN(a->nla_len) <= sizeof s->attrs) {
            memcpy(s->attrs + s->len, a, NLA_ALIGN(a->nla_len));
            s->len += NLA_ALIGN(a->nla_len);
        }
    }
}

static double ms_since(struct timespec *t) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (now.tv_sec - t->tv_sec) * 1e3 + (now.tv_nsec - t->tv_nsec) / 1e6;
    *t = now;
    return ms;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: dumpfloor SVC_LEN DEST_LEN [sockets]\n");
        return 2;
    }
    size_t svc_len = strtoul(argv[1], 0, 10), dest_len = strtoul(argv[2], 0, 10);
    if (svc_len > sizeof rx || dest_len > sizeof rx || svc_len < 1024 || dest_len < 1024) {
        fprintf(stderr, "lengths: 1024 to %zu\n", sizeof rx);
        return 2;
    }
    int two = argc > 3 && atoi(argv[3]) == 2;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int fd = open_socket();
    char name[NLA_HDRLEN + 8] = {0};
    struct nlattr *a = (void *)name;
    a->nla_type = CTRL_ATTR_FAMILY_NAME;
    a->nla_len = NLA_HDRLEN + 5;
    memcpy(name + NLA_HDRLEN, "IPVS", 5);
    unsigned short family = 0;
    converse(fd, request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK, name, NLA_ALIGN(a->nla_len)),
             svc_len, family_id, &family);
    if (!family) {
        fprintf(stderr, "no IPVS family\n");
        return 1;
    }
    struct list services = {0};
    converse(fd, request(family, IPVS_CMD_GET_SERVICE, NLM_F_DUMP, 0, 0), svc_len, keep_service,
             &services);
    double svc_ms = ms_since(&t);
    int dfd = two ? open_socket() : fd, dests = 0;
    char nest[NLA_HDRLEN + sizeof services.v[0].attrs];
    for (int i = 0; i < services.n; i++) {
        struct nlattr *n = (void *)nest;
        n->nla_type = IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED;
        n->nla_len = NLA_HDRLEN + services.v[i].len;
        memcpy(nest + NLA_HDRLEN, services.v[i].attrs, services.v[i].len);
        dests += converse(dfd, request(family, IPVS_CMD_GET_DEST, NLM_F_DUMP, nest, n->nla_len),
                          dest_len, 0, 0);
    }
    printf("services=%d dests=%d services_ms=%.1f dests_ms=%.1f\n", services.n, dests, svc_ms,
           ms_since(&t));
    return 0;
}
