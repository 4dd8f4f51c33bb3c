/*
 * control.h - what drydock reads from a data directory's global/pg_control.
 *
 * ControlFileData starts with the system identifier (uint64, offset 0), then
 * pg_control_version (uint32, offset 8) and catalog_version_no (offset 12).
 * PostgreSQL 15 writes pg_control_version 1300: pg_control_read() refuses
 * any other (another major version, or not a control file at all).
 */
#ifndef DD_PG_CONTROL_H
#define DD_PG_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define PG_CONTROL_VERSION 1300 /* PostgreSQL 15 */

typedef struct {
    uint64_t system_id;
    uint32_t control_version;
    uint32_t catalog_version;
} PgControl;

DD_MUST_CHECK bool pg_control_read(const char *data_dir, PgControl *out);

#endif
