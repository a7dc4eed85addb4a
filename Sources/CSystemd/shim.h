#ifndef SENTRA_CSYSTEMD_SHIM_H
#define SENTRA_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>

/* Swift cannot call C variadics; this prefixed shim gives sd_notifyf a fixed signature. */
static inline int csystemd_notify_status(int unset_environment, const char *status) {
    return sd_notifyf(unset_environment, "STATUS=%s", status);
}
#endif
