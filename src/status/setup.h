/*
 * setup.h - from the [status] section of the configuration to what the
 * status modules take: the store's options (title, zone, URL, component
 * names split on commas, webhook URLs) with their validation (a known time
 * zone, non-empty unique component names, http(s) webhook URLs, a store
 * path), and the secrets read from their 0600 files.
 */
#ifndef DD_STATUS_SETUP_H
#define DD_STATUS_SETUP_H

#include <stdbool.h>

#include "common/error.h"
#include "common/mem.h"
#include "config/config.h"
#include "status/store.h"

typedef struct {
    const char *store_path;
    StatusStoreOptions opt; /* points into the lists below and into the Config */
    StrList components;
    StrList webhooks;
} StatusSetup;

/* Validate [status] and fill out; DD_EXIT_CONFIG naming the key on failure. */
DD_MUST_CHECK bool status_setup(const Config *cfg, StatusSetup *out);
void status_setup_free(StatusSetup *s);

/* Open the configured store. */
DD_MUST_CHECK bool status_setup_open(const StatusSetup *s, StatusStore **out);

/* The webhook secret ([status] webhook-secret-file), or NULL when none is configured. */
DD_MUST_CHECK bool status_setup_secret(const Config *cfg, char **out);

#endif
