/*
 * target.c - where server connections go (ServerTarget, internal.h): a
 * conninfo resolved once to one address, and the servers /switch may go
 * to.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/log.h"
#include "pg/conn.h"
#include "pg/libpq.h"
#include "pg/node.h"
#include "proxy/internal.h"

static bool resolve(const char *host, const char *port, ServerTarget *t)
{
    if (host[0] == '/') {
        struct sockaddr_un *un = (struct sockaddr_un *)&t->addr;
        memset(un, 0, sizeof(*un));
        un->sun_family = AF_UNIX;
        if ((size_t)snprintf(un->sun_path, sizeof(un->sun_path), "%s/.s.PGSQL.%s", host, port) >=
            sizeof(un->sun_path))
            return err_set(DD_EXIT_CONFIG, "socket directory \"%s\" is too long", host);
        t->addr_len = sizeof(*un);
        return true;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res) {
        err_set(DD_EXIT_CONFIG, "could not resolve server host \"%s\": %s", host, gai_strerror(rc));
        err_hint("check host= in [proxy] server (or [cluster] primary)");
        return false;
    }
    /* One address, resolved now: IPv4 first ("localhost" servers usually listen there). */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
    t->addr_len = pick->ai_addrlen;
    freeaddrinfo(res);
    return true;
}

/* The user a conninfo names, "" when none (the role probe connects as it). */
static void conninfo_user(const char *conninfo, char *out, size_t len)
{
    out[0] = '\0';
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "user") == 0 && o->val)
            snprintf(out, len, "%s", o->val);
    if (opts)
        PQconninfoFree(opts);
}

bool proxy_target_init(ServerTarget *t, const char *conninfo)
{
    memset(t, 0, sizeof(*t));
    if (!pg_conninfo_check(conninfo, "server"))
        return false;
    PgEndpoint ep; /* libpq's defaults, as the switchover compares them (pg/node.h) */
    if (!pg_endpoint_parse(conninfo, &ep))
        return false;
    if (!resolve(ep.host, ep.port, t))
        return false;
    snprintf(t->host, sizeof(t->host), "%s", ep.host);
    conninfo_user(conninfo, t->user, sizeof(t->user));
    t->conninfo = xstrdup(conninfo);
    t->redacted = pg_conninfo_redact(conninfo);
    return true;
}

static bool same_address(const ServerTarget *a, const ServerTarget *b)
{
    return a->addr_len == b->addr_len && memcmp(&a->addr, &b->addr, a->addr_len) == 0;
}

/*
 * The servers /switch may go to: those the configuration names ([proxy]
 * server, [cluster] primary and standby), compared by address: the ones
 * named at start, and those the configuration file names now (read again
 * for each check, so that a standby added to it needs no restart).
 * Sending the sessions (and the credentials the proxy holds) to an address
 * a caller made up is what an open admin API allowed.
 */
static void allowed_add(Proxy *p, const char *conninfo)
{
    if (!conninfo || p->nallowed >= sizeof(p->allowed) / sizeof(p->allowed[0]))
        return;
    if (!proxy_target_init(&p->allowed[p->nallowed], conninfo)) {
        log_failure();
        log_warn("that server cannot be a target of /switch");
        err_clear();
        return;
    }
    p->nallowed++;
}

void proxy_allowed_init(Proxy *p)
{
    for (size_t i = 0; i < sizeof(p->opt.switch_servers) / sizeof(p->opt.switch_servers[0]); i++)
        allowed_add(p, p->opt.switch_servers[i]);
}

/* Whether the configuration file, as it is now, names t's address. */
static bool allowed_now(const Proxy *p, const ServerTarget *t)
{
    Config cfg;
    if (!p->opt.config_file || !config_load(p->opt.config_file, &cfg)) {
        err_clear();
        return false;
    }
    const char *named[] = {cfg.proxy_server, cfg.primary, cfg.standby};
    bool found = false;
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]) && !found; i++) {
        ServerTarget n;
        if (named[i] && proxy_target_init(&n, named[i])) {
            found = same_address(t, &n);
            proxy_target_free(&n);
        }
        err_clear();
    }
    config_free(&cfg);
    return found;
}

bool proxy_allowed_target(const Proxy *p, const ServerTarget *t)
{
    if (same_address(t, &p->target))
        return true;
    for (size_t i = 0; i < p->nallowed; i++)
        if (same_address(t, &p->allowed[i]))
            return true;
    if (allowed_now(p, t))
        return true;
    err_set(DD_EXIT_CONFIG, "the server %s is not one the proxy's configuration names",
            t->redacted);
    err_hint("name it as [cluster] primary or standby (or [proxy] server) in %s",
             p->opt.config_file ? p->opt.config_file : "the proxy's configuration");
    return false;
}

ProxyResult proxy_switch_allowed(Proxy *p, const char *conninfo)
{
    ServerTarget t;
    if (!proxy_target_init(&t, conninfo))
        return PROXY_ERR_SERVER;
    bool ok = proxy_allowed_target(p, &t);
    proxy_target_free(&t);
    return ok ? PROXY_DONE : PROXY_ERR_NOT_ALLOWED;
}

void proxy_target_free(ServerTarget *t)
{
    free(t->conninfo);
    free(t->redacted);
    t->conninfo = t->redacted = NULL;
}
