/*
 * pgsetting.h - whether a value written in a configuration file means what
 * the server reports for a setting (pg_settings: setting, unit, vartype).
 *
 *   integer, real  compared in the base unit: "256MB" with setting 32768
 *                  and unit 8kB; "5min" with 300 and s; a value without a
 *                  unit is in the setting's unit
 *   bool           on/true/yes/1/t/y and off/false/no/0/f/n alike
 *   others         case-insensitively ("Replica" is "replica")
 *
 * Pure; used by the verify step, and for comparing a change with the live
 * value.
 */
#ifndef DD_MAINT_PGSETTING_H
#define DD_MAINT_PGSETTING_H

#include <stdbool.h>
#include <stddef.h>

/* A value as the file gives it, without quotes and surrounding blanks, into out. */
void pgsetting_unquote(const char *v, char *out, size_t len);

/* Whether want means the server's setting (in unit, of vartype: bool, integer, real, enum, string).
 */
bool pgsetting_matches(const char *want, const char *setting, const char *unit,
                       const char *vartype);

#endif
