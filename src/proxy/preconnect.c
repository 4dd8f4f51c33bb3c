/*
 * preconnect.c - server connections opened ahead of a switch, so that the
 * switch itself does not pay for them inside the clients' hold.
 *
 * While the proxy is paused (every session held at a transaction
 * boundary), POST /switch {"server": S, "prepare": true} opens, for each
 * held session that has a server connection, a second one to S with the
 * session's startup parameters, authenticates it and re-prepares its named
 * statements (server.c, as a switch does), and leaves it idle: nothing else
 * is sent on it, and what it may say is left unread. The proxy keeps
 * pointing at its current server. A later /switch to S takes these
 * connections over (a ready one at once, one still starting as the
 * session's next server); a /switch elsewhere, a resume, or the pause's end
 * by its lease closes them. A connection that fails is dropped: the switch
 * connects that session afresh.
 *
 * PostgreSQL 15 lets a standby take them (hot_standby = on), and a session
 * opened before its promotion can write once it has: a transaction's
 * read-only state is decided when it starts (RecoveryInProgress() in
 * StartTransaction), and the held sessions start none before the resume.
 */
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/internal.h"

void proxy_pre_drop(Proxy *p)
{
    int dropped = 0;
    for (Session *s = p->sessions; s; s = s->next) {
        if (s->pre_server) {
            server_free(s->pre_server);
            s->pre_server = NULL;
            dropped++;
        }
        s->pre_ready = false;
    }
    if (p->has_pre) {
        if (dropped)
            log_debug("closed %d connections opened ahead of a switch to %s", dropped,
                      p->pre_target.redacted);
        proxy_target_free(&p->pre_target);
        p->has_pre = false;
    }
}

ProxyResult proxy_preconnect(Proxy *p, const char *conninfo, int *opened)
{
    *opened = 0;
    if (p->phase != PROXY_PAUSED)
        return p->phase == PROXY_RUNNING ? PROXY_ERR_NOT_PAUSED : PROXY_ERR_BUSY;
    ServerTarget t;
    if (!proxy_target_init(&t, conninfo))
        return PROXY_ERR_SERVER;
    if (!proxy_allowed_target(p, &t)) {
        log_warn("refused to connect ahead to %s: not a server the configuration names",
                 t.redacted);
        proxy_target_free(&t);
        return PROXY_ERR_NOT_ALLOWED;
    }
    proxy_pre_drop(p);
    p->pre_target = t;
    p->has_pre = true;
    p->switch_started = time_mono(); /* for the debug trace of each connection */
    for (Session *s = p->sessions; s; s = s->next) {
        if (s->state != SESSION_HELD || !s->server)
            continue; /* without a server it connects on resume anyway */
        Server *srv = server_connect(s, &p->pre_target);
        if (!srv) {
            log_debug("session %u: could not connect ahead: %s", s->id, err_message());
            continue;
        }
        s->pre_server = srv;
        (*opened)++;
    }
    log_info("connecting %d held sessions ahead to %s", *opened, p->pre_target.redacted);
    return PROXY_DONE;
}

bool proxy_pre_take(Proxy *p, Session *s, const ServerTarget *t)
{
    if (!p->has_pre || !s->pre_server || strcmp(p->pre_target.conninfo, t->conninfo) != 0)
        return false;
    Server *srv = s->pre_server;
    s->pre_server = NULL;
    if (s->pre_ready) {
        s->pre_ready = false;
        server_free(s->server);
        s->server = srv;
        p->switch_ok++;
        return true;
    }
    s->next_server = srv; /* proxy_server_ready() finishes its move */
    session_set_state(s, SESSION_SWITCHING);
    return true;
}

bool proxy_pre_ready(Session *s, Server *srv)
{
    if (srv != s->pre_server)
        return false;
    s->pre_ready = true;
    return true;
}

bool proxy_pre_failed(Session *s, Server *srv, const char *message)
{
    if (srv != s->pre_server)
        return false;
    log_info("session %u: a connection opened ahead of the switch failed: %s", s->id, message);
    server_free(srv);
    s->pre_server = NULL;
    s->pre_ready = false;
    return true;
}
