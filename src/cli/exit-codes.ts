/** Exit codes of the `logsift` command. Stable: supervisors and scripts branch on them. */
export const EXIT_CODES = {
  /** Done, or stopped cleanly by SIGTERM/SIGINT. */
  ok: 0,
  /** A fatal error: unreadable input, invalid configuration or KB, a failed scan. */
  failure: 1,
  /** Bad command-line usage. */
  usage: 2,
  /** `logsift run`: Kafka did not accept the consumer and producer within `kafka.startTimeout`. */
  startTimeout: 3,
  /** `logsift run`: shutdown forced by the grace period or a second signal; uncommitted work is re-delivered. */
  shutdownForced: 4,
  /** `logsift run`, exactly-once: fenced by another instance that took over its partitions. */
  fenced: 5,
  /** An uncaught exception (a bug): the process state is unknown, so it ends. */
  internalError: 70,
} as const;
