/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		The shared-memory layout: sizing and attaching every region (shmem.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGOV_SHMEM_H
#define PGOV_SHMEM_H

#include "postgres.h"

extern void pgov_shmem_request(void);
extern void pgov_shmem_startup(void);

#endif							/* PGOV_SHMEM_H */
