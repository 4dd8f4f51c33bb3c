/*
 * walside.h - the WAL archive's side files, checked before they are archived
 * and when verify reads them back: a garbage history file archived once made
 * every later restore fail to start ("FATAL: syntax error in history file")
 * and the genuine file was refused afterwards as a conflict.
 *
 * A timeline history file, TTTTTTTT.history (PostgreSQL 15's
 * writeTimeLineHistory / readTimeLineHistory), is text: lines that are empty
 * or start with '#' (after leading blanks) are ignored; every other line is
 *
 *     <parent timeline>\t<switch point X/Y>\t<reason>
 *
 * with the parent timelines increasing from line to line and all below the
 * file's own timeline; a real file has at least one such line.
 *
 * A backup history file, <segment>.<offset>.backup (do_pg_backup_stop), is
 * text whose first line is
 *
 *     START WAL LOCATION: X/Y (file <segment>)
 *
 * where <segment> and <offset> are those of the file's name (the start LSN's
 * segment and its offset in it), followed by a "STOP WAL LOCATION: " line.
 */
#ifndef DD_PG_WALSIDE_H
#define DD_PG_WALSIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Check a history file of timeline tli; false + DD_EXIT_CORRUPT naming the line. */
DD_MUST_CHECK bool walside_history_check(uint32_t tli, const void *data, size_t len);

/*
 * Check a backup history file named name (its base name, already parsed as
 * one); false + DD_EXIT_CORRUPT saying what does not match.
 */
DD_MUST_CHECK bool walside_backup_check(const char *name, uint32_t seg_size, const void *data,
                                        size_t len);

#endif
