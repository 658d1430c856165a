/*
 * The Chinese sentence every API error carries beside its English one
 * (`error_zh`): what a client shows a county or duty officer, who should
 * not have to read English at night.  Chosen by status and field, so every
 * error gets one, including those of code that does not know about it.
 */
#ifndef DUTYD_ERRZH_H
#define DUTYD_ERRZH_H

#include <stddef.h>

/* The sentence for an error of STATUS naming FIELD (NULL: none), in BUF. */
const char *errzh_sentence(int status, const char *field, char *buf,
	    size_t len);

#endif
