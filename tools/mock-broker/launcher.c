/*
 * logsift's launcher for librdkafka's mock cluster: a real Kafka-protocol broker on 127.0.0.1 for
 * tests and the demo. Prints "BOOTSTRAP <servers>" then "READY", then takes one command per stdin
 * line and answers "OK" or "ERR <why>". Exits when stdin closes, so it never outlives its owner.
 *
 *   mock-broker [--brokers N] [--topic NAME:PARTITIONS]...
 *
 * Commands:
 *   topic NAME PARTITIONS            create a topic (the mock does not support CreateTopics)
 *   down BROKER | up BROKER          disconnect / accept connections again (-1: all brokers)
 *   rtt BROKER MS                    add round-trip delay
 *   errors APIKEY ERR [ERR...]       the next requests of APIKEY fail with these error codes
 *   broker-errors BROKER APIKEY ERR RTT [ERR RTT...]   same, for one broker, with delays
 *   clear APIKEY                     drop queued errors for APIKEY
 *   leader TOPIC PARTITION BROKER    move partition leadership
 *   quit
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdkafka.h"
#include "rdkafka_mock.h"

#define MAX_ARGS 64

static void reply(rd_kafka_resp_err_t err) {
  if (err) printf("ERR %s\n", rd_kafka_err2str(err));
  else printf("OK\n");
  fflush(stdout);
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec) {
  char name[512];
  int parts = 1;
  const char *colon = strrchr(spec, ':');
  size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
  if (len == 0 || len >= sizeof(name)) return -1;
  memcpy(name, spec, len);
  name[len] = '\0';
  if (colon) parts = atoi(colon + 1);
  if (parts <= 0) return -1;
  return rd_kafka_mock_topic_create(mc, name, parts, 1) ? -1 : 0;
}

int main(int argc, char **argv) {
  int brokers = 1;
  char errstr[512];
  signal(SIGPIPE, SIG_IGN);

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* The handle only keeps the cluster's books; keep it quiet. */
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--brokers") && i + 1 < argc) brokers = atoi(argv[++i]);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) {
    fprintf(stderr, "mock-broker: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    fprintf(stderr, "mock-broker: cannot create the mock cluster\n");
    return 1;
  }
  /* kafkajs needs a real controller id (Debian's 2.0.2 mock reports 0: "Broker 0 not found"). */
  rd_kafka_mock_set_controller_id(mc, 1);
  /* kafkajs cannot decode the mock's LeaveGroup v3+ response; v2 carries the same meaning. */
  rd_kafka_mock_set_apiversion(mc, 13 /* LeaveGroup */, 0, 2);

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
      if (create_topic(mc, argv[++i]) != 0) {
        fprintf(stderr, "mock-broker: bad --topic %s (want NAME:PARTITIONS)\n", argv[i]);
        return 2;
      }
    } else if (!strcmp(argv[i], "--brokers")) {
      i++;
    } else {
      fprintf(stderr, "usage: mock-broker [--brokers N] [--topic NAME:PARTITIONS]...\n");
      return 2;
    }
  }

  printf("BOOTSTRAP %s\nREADY\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[4096];
  while (fgets(line, sizeof(line), stdin)) {
    char *args[MAX_ARGS];
    int n = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && n < MAX_ARGS; tok = strtok(NULL, " \t\r\n")) args[n++] = tok;
    if (n == 0) continue;
    const char *cmd = args[0];
    if (!strcmp(cmd, "quit")) break;
    if (!strcmp(cmd, "topic") && n == 3) {
      reply(rd_kafka_mock_topic_create(mc, args[1], atoi(args[2]), 1));
    } else if (!strcmp(cmd, "down") && n == 2) {
      reply(rd_kafka_mock_broker_set_down(mc, atoi(args[1])));
    } else if (!strcmp(cmd, "up") && n == 2) {
      reply(rd_kafka_mock_broker_set_up(mc, atoi(args[1])));
    } else if (!strcmp(cmd, "rtt") && n == 3) {
      reply(rd_kafka_mock_broker_set_rtt(mc, atoi(args[1]), atoi(args[2])));
    } else if (!strcmp(cmd, "errors") && n >= 3) {
      rd_kafka_resp_err_t errs[MAX_ARGS];
      for (int i = 2; i < n; i++) errs[i - 2] = (rd_kafka_resp_err_t)atoi(args[i]);
      rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(args[1]), (size_t)(n - 2), errs);
      reply(RD_KAFKA_RESP_ERR_NO_ERROR);
    } else if (!strcmp(cmd, "broker-errors") && n >= 5 && (n - 3) % 2 == 0) {
      /* One error+RTT tuple per call keeps this free of va_list gymnastics. */
      rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
      for (int i = 3; i + 1 < n && !err; i += 2)
        err = rd_kafka_mock_broker_push_request_error_rtts(mc, atoi(args[1]), (int16_t)atoi(args[2]), 1,
                                                           (rd_kafka_resp_err_t)atoi(args[i]), atoi(args[i + 1]));
      reply(err);
    } else if (!strcmp(cmd, "clear") && n == 2) {
      rd_kafka_mock_clear_request_errors(mc, (int16_t)atoi(args[1]));
      reply(RD_KAFKA_RESP_ERR_NO_ERROR);
    } else if (!strcmp(cmd, "leader") && n == 4) {
      reply(rd_kafka_mock_partition_set_leader(mc, args[1], atoi(args[2]), atoi(args[3])));
    } else {
      printf("ERR unknown command or arguments: %s\n", cmd);
      fflush(stdout);
    }
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
