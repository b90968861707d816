# Run before each mailbox's own script (dovecot.conf sieve_before): mail rspamd scored for its
# add_header action carries "X-Spam: Yes" (rspamd's milter replaces any the sender put there,
# rspamd src/libserver/milter.c rspamd_milter_send_task_results) and goes to Junk. `stop`: the
# mailbox's own script does not run on it, so no vacation reply ever answers spam.
require ["fileinto"];
if header :is "X-Spam" "Yes" {
  fileinto "Junk";
  stop;
}
