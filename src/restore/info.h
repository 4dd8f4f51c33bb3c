/*
 * info.h - "drydock info": the backups and the recoverable window, as text
 * for a human or as JSON for a program.
 *
 * JSON document (one object; times in PostgreSQL's text form, UTC, usable
 * as --target-time; LSNs as "X/Y"; sizes in bytes; durations in seconds):
 *
 *   {"backups": [{"id", "source", "timeline", "start_time", "stop_time",
 *                 "start_lsn", "stop_lsn", "bytes_logical", "bytes_new",
 *                 "bytes_stored", "duration", "files", "tablespaces",
 *                 "restorable", "reach_time", "reach_lsn",
 *                 "missing_segment"}, ...],           oldest first
 *    "damaged": ["<id>", ...],   manifests that do not load, left out
 *    "window": {"earliest_time", "earliest_lsn", "earliest_timeline",
 *               "latest_time", "latest_lsn", "latest_timeline"} | null,
 *    "wal": {"segments": N,
 *            "runs": [{"timeline", "first", "last"}],   segment names
 *            "gaps": [{"timeline", "first", "last"}]}}  the missing ones
 *
 * reach_* are null and missing_segment names the first missing segment when
 * a backup is not restorable; missing_segment is null otherwise.
 *
 * "drydock info --json" adds "health" (health.h): what an alert needs.
 */
#ifndef DD_RESTORE_INFO_H
#define DD_RESTORE_INFO_H

#include <jansson.h>
#include <stdint.h>

#include "common/mem.h"
#include "restore/catalog.h"

void info_render_text(const Catalog *c, Buf *out);
void info_render_json(const Catalog *c, Buf *out);
/* The same with a "health" member (stolen; may be NULL). */
void info_render_json_with(const Catalog *c, json_t *health, Buf *out);

/* "1.5 GiB", "312 KiB", "12 B" into out (>= 16 bytes). */
void info_format_bytes(uint64_t bytes, char *out, size_t len);

#endif
