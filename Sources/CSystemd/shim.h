#ifndef SENTRA_CSYSTEMD_SHIM_H
#define SENTRA_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

/* Swift cannot call C variadics; these prefixed shims give it fixed signatures. */
static inline int csystemd_notify_status(int unset_environment, const char *status) {
    return sd_notifyf(unset_environment, "STATUS=%s", status);
}
static inline int csystemd_journal_print(int priority, const char *message) {
    return sd_journal_print(priority, "%s", message);
}
#endif
