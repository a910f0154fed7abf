/*
 * kafka-mock: a Kafka-protocol test broker from librdkafka's mock cluster (rdkafka_mock.h).
 *
 *   kafka-mock [--brokers N] [topic:partitions ...]
 *
 * Starts N brokers (default 1) on 127.0.0.1, creates the topics given, prints the bootstrap list on
 * one line ("bootstrap 127.0.0.1:port,...") and then reads commands from standard input, one a line,
 * answering each with "ok" or "error <reason>":
 *
 *   create <topic> <partitions>   create a topic (the mock has no CreateTopics API)
 *   down <broker id>              disconnect a broker and refuse connections (-1: all)
 *   up <broker id>                accept connections again
 *
 * It exits when standard input closes, so a test that dies takes its broker with it.
 * Build: gcc -O2 -o kafka-mock kafka-mock.c -lrdkafka
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec) {
        char name[512];
        const char *colon = strrchr(spec, ':');
        int partitions = colon ? atoi(colon + 1) : 1;
        size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
        if (len == 0 || len >= sizeof(name) || partitions < 1) {
                fprintf(stderr, "kafka-mock: bad topic %s (expected name:partitions)\n", spec);
                return -1;
        }
        memcpy(name, spec, len);
        name[len] = '\0';
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, partitions, 1);
        if (err) {
                fprintf(stderr, "kafka-mock: topic %s: %s\n", name, rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

int main(int argc, char **argv) {
        int brokers = 1, first = 1;
        char errstr[512], line[1024];
        if (argc > 2 && strcmp(argv[1], "--brokers") == 0) {
                brokers = atoi(argv[2]);
                first = 3;
        }
        if (brokers < 1) {
                fprintf(stderr, "usage: kafka-mock [--brokers N] [topic:partitions ...]\n");
                return 2;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        /* The handle only hosts the mock cluster; quiet its own logging. */
        rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "kafka-mock: %s\n", errstr);
                return 1;
        }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mc) {
                fprintf(stderr, "kafka-mock: could not create the mock cluster\n");
                return 1;
        }
        for (int i = first; i < argc; i++)
                if (create_topic(mc, argv[i]) != 0) return 1;
        printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        while (fgets(line, sizeof(line), stdin)) {
                char cmd[32], arg[512];
                int n = 0;
                int fields = sscanf(line, "%31s %511s %d", cmd, arg, &n);
                rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
                if (fields >= 3 && strcmp(cmd, "create") == 0)
                        err = rd_kafka_mock_topic_create(mc, arg, n, 1);
                else if (fields >= 2 && strcmp(cmd, "down") == 0)
                        err = rd_kafka_mock_broker_set_down(mc, atoi(arg));
                else if (fields >= 2 && strcmp(cmd, "up") == 0)
                        err = rd_kafka_mock_broker_set_up(mc, atoi(arg));
                else {
                        printf("error unknown command\n");
                        fflush(stdout);
                        continue;
                }
                if (err) printf("error %s\n", rd_kafka_err2str(err));
                else printf("ok\n");
                fflush(stdout);
        }
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
