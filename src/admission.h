/*-------------------------------------------------------------------------
 *
 * admission.h
 *		The authentication hook (admission.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_ADMISSION_H
#define PGOV_ADMISSION_H

#include "postgres.h"

extern void pgov_install_auth_hook(void);

#endif							/* PGOV_ADMISSION_H */
