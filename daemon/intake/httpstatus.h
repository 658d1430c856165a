/*
 * The reason phrase for a status line ("Not Found"), for the answers
 * conn.c writes, whole or streamed.
 */
#ifndef DUTYD_HTTPSTATUS_H
#define DUTYD_HTTPSTATUS_H

/* A static string; "OK" or "Error" for a status it does not name. */
const char	*httpstatus_reason(int status);

#endif
