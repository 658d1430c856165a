/* systemd integration: readiness, status and stopping notifications. */
#ifndef DUTYD_SD_H
#define DUTYD_SD_H

void	sd_ready(void);
void	sd_stopping(void);
void	sd_reloading(void);
void	sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
