/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Mappings of clients' dmabufs that survive their memory going away.
 *
 * A dmabuf's exporter may answer an access with SIGBUS long after mmap() succeeded: a GPU
 * buffer after a device loss, a purged buffer object, a file-backed buffer cut short. Left
 * to its default action the signal ends the daemon, and every client's stream with it, so
 * any member of the video group could take the decoder from the others with one such buffer.
 *
 * Every mapping the bufcache makes is registered here. A SIGBUS whose address lies in a
 * registered mapping replaces that whole mapping with anonymous memory of the same
 * protection (mmap MAP_FIXED, which the sandbox allows) and marks it lost; the faulting
 * access is then retried and succeeds, reads seeing zeros and writes landing nowhere the
 * client can see. Whoever used the mapping checks the mark afterwards and fails its job
 * (decode.c). A SIGBUS anywhere else goes to the handler that was there before (the default
 * action, a core dump at the fault; or a sanitizer's report).
 *
 * The handler takes no lock: the registry is a chain of fixed slots that is only ever
 * appended to, each slot's state changed by compare-and-exchange, so that a slot being
 * swapped is never freed (dm_sigbus_forget() waits for the swap) and a slot freed and
 * reused under a handler is seen as such (the handler checks the range again once it owns
 * the slot). A thread that blocks SIGBUS is killed by such a fault all the same: the
 * daemon's threads, and the libraries' they start, never block it.
 */
#ifndef DAEDALUS_DAEMON_SIGBUS_GUARD_H
#define DAEDALUS_DAEMON_SIGBUS_GUARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct dm_sigbus_slot;

/* Installs the process's SIGBUS handler; once, before any buffer is mapped. 0 or -errno. */
int dm_sigbus_install(void);

/*
 * Registers [addr, addr + len), a mapping made with mmap() (writable: PROT_READ |
 * PROT_WRITE, else PROT_READ). NULL when no slot could be allocated.
 */
struct dm_sigbus_slot *dm_sigbus_watch(void *addr, size_t len, bool writable);

/* Unregisters the mapping; call before munmap(). NULL is ignored. */
void dm_sigbus_forget(struct dm_sigbus_slot *s);

/* Whether a SIGBUS replaced the mapping's memory since it was registered. */
bool dm_sigbus_lost(const struct dm_sigbus_slot *s);
/* The flag dm_sigbus_lost() reads, for whoever checks it later (dd_job.bitstream_lost). */
const atomic_bool *dm_sigbus_lost_flag(const struct dm_sigbus_slot *s);

#endif
