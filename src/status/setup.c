/*
 * setup.c - [status] to options (setup.h).
 */
#include "status/setup.h"

#include <ctype.h>
#include <string.h>

#include "common/httpd.h"
#include "status/tz.h"

static bool bad_key(const Config *cfg, const char *key, const char *what, const char *hint)
{
    err_set(DD_EXIT_CONFIG, "configuration file \"%s\": key \"%s\" in [status]: %s",
            cfg->file ? cfg->file : "(none)", key, what);
    err_hint("%s", hint);
    return false;
}

static bool split_components(const Config *cfg, StrList *out)
{
    const char *p = cfg->status_components ? cfg->status_components : "";
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (e == s)
            return bad_key(cfg, "components", "a component name is empty",
                           "list names separated by commas: Database, Application");
        char *name = xstrndup(s, (size_t)(e - s));
        for (size_t i = 0; i < out->len; i++)
            if (strcmp(out->items[i], name) == 0) {
                free(name);
                return bad_key(cfg, "components", "a component is named twice",
                               "give each component once");
            }
        strlist_push_owned(out, name);
        p += n + (p[n] == ',');
    }
    return true;
}

static bool split_webhooks(const Config *cfg, StrList *out)
{
    const char *p = cfg->status_webhooks ? cfg->status_webhooks : "";
    while (*p) {
        size_t n = strcspn(p, "\n");
        char *url = xstrndup(p, n);
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
            free(url);
            return bad_key(cfg, "webhook", "expected an http:// or https:// URL",
                           "give one URL per \"webhook =\" line");
        }
        strlist_push_owned(out, url);
        p += n + (p[n] == '\n');
    }
    return true;
}

bool status_setup(const Config *cfg, StatusSetup *out)
{
    *out = (StatusSetup){0};
    if (!config_require(cfg, "status", "store", cfg->status_store))
        return false;
    if (!tz_check(cfg->status_time_zone)) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", err_message());
        return bad_key(cfg, "time-zone", msg, "use an IANA name such as Europe/Paris or UTC");
    }
    if (!split_components(cfg, &out->components) || !split_webhooks(cfg, &out->webhooks)) {
        status_setup_free(out);
        return false;
    }
    out->store_path = cfg->status_store;
    out->opt = (StatusStoreOptions){
        .title = cfg->status_title,
        .time_zone = cfg->status_time_zone,
        .url = cfg->status_url,
        .components = (const char *const *)out->components.items,
        .ncomponents = out->components.len,
        .webhooks = (const char *const *)out->webhooks.items,
        .nwebhooks = out->webhooks.len,
    };
    return true;
}

void status_setup_free(StatusSetup *s)
{
    strlist_free(&s->components);
    strlist_free(&s->webhooks);
    *s = (StatusSetup){0};
}

bool status_setup_open(const StatusSetup *s, StatusStore **out)
{
    return status_store_open(s->store_path, &s->opt, out);
}

bool status_setup_secret(const Config *cfg, char **out)
{
    *out = NULL;
    if (!cfg->status_webhook_secret_file)
        return true;
    return httpd_secret_load(cfg->status_webhook_secret_file, "webhook secret file", out);
}
