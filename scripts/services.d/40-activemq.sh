#!/usr/bin/env bash
# ActiveMQ 5.17 from Debian's `activemq` package, run from a private base directory (not the system
# service), following the checked recipe in TEST-SERVICES.md:
#   openwire 127.0.0.1:61616 · stomp 127.0.0.1:61613 · mqtt 127.0.0.1:1884
# (1884, not 1883: Mosquitto has that; nothing on 5672: RabbitMQ has that). persistent="false": a clean
# broker every start. Run by scripts/services.sh, which provides the svc_* helpers.
set -euo pipefail
BASE=${SLUICE_ACTIVEMQ_BASE:-/var/tmp/sluice-activemq}
OPENWIRE=61616 STOMP=61613 MQTT=1884
HOME_DIR=/usr/share/activemq

openwire_answers() { # the broker speaks first: a WireFormatInfo carrying the magic "ActiveMQ"
  [[ "$(svc_exchange "$OPENWIRE" '' 13)" == *4163746976654d51 ]]
}
stomp_answers() { # CONNECT gets CONNECTED
  [[ "$(svc_exchange "$STOMP" 'CONNECT\naccept-version:1.2\nhost:localhost\n\n\x00' 9)" == "434f4e4e4543544544" ]]
}
all_answer() { openwire_answers && stomp_answers && svc_mqtt_answers "$MQTT"; }
our_pid() { pgrep -f -- "-Dactivemq.base=$BASE " | head -n 1; }

# Concurrent runs of services.sh (several test runs on one machine) must not start two brokers.
mkdir -p "$(dirname "$BASE")"
exec 9>"$BASE.lock"
flock -w 120 9 || { echo "another run holds $BASE.lock for over 120 s" >&2; exit 1; }

if all_answer; then echo "ActiveMQ openwire :$OPENWIRE, stomp :$STOMP, mqtt :$MQTT already running"; exit 0; fi

did=""
if [ ! -e "$HOME_DIR/bin/activemq.jar" ] || [ ! -e /usr/share/java/mqtt-client.jar ] || ! command -v java >/dev/null 2>&1; then
  svc_apt_install activemq libmqtt-client-java
  did="installed activemq libmqtt-client-java, "
fi

pid=$(our_pid || true)
if [ -n "$pid" ] && [ "$(ps -o etimes= -p "$pid" 2>/dev/null | tr -d ' ')" -gt 30 ] 2>/dev/null; then
  # ours, up for a while and not answering: hung (an OutOfMemoryError leaves the JVM up but deaf, even to SIGTERM)
  kill -9 "$pid" 2>/dev/null || true
  svc_wait 10 "the hung broker (pid $pid) exiting" bash -c "! kill -0 $pid 2>/dev/null"
  did="${did}killed a hung broker (pid $pid), "
  pid=""
fi
if [ -z "$pid" ]; then
  for port in "$OPENWIRE" "$STOMP" "$MQTT"; do
    if svc_tcp_open "$port"; then echo "port $port is taken by another process (not our ActiveMQ from $BASE): $(ss -ltnpH "sport = :$port" 2>/dev/null | head -n 1)" >&2; exit 1; fi
  done
  rm -rf "$BASE/conf" "$BASE/data" "$BASE/tmp"
  mkdir -p "$BASE/conf" "$BASE/lib" "$BASE/data" "$BASE/tmp" "$BASE/log"
  cp /etc/activemq/instances-available/main/* "$BASE/conf/"
  # Without the MQTT client library every MQTT connection fails with NoClassDefFoundError …PINGRESP.
  ln -sfn /usr/share/java/mqtt-client.jar "$BASE/lib/mqtt-client.jar"
  cat >"$BASE/conf/activemq.xml" <<XML
<beans
  xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
    <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
    <!-- Written by scripts/services.d/40-activemq.sh for sluice's tests; every start rewrites it. -->
    <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="localhost"
            persistent="false" dataDirectory="\${activemq.base}/data">
        <!-- Messages held for slow or absent consumers spill to a temp store at half the heap, so a
             test that leaves a durable subscription behind cannot run the 256 MB broker out of memory. -->
        <systemUsage>
            <systemUsage>
                <memoryUsage><memoryUsage percentOfJvmHeap="50"/></memoryUsage>
                <tempUsage><tempUsage limit="2 gb"/></tempUsage>
            </systemUsage>
        </systemUsage>
        <transportConnectors>
            <transportConnector name="openwire" uri="tcp://127.0.0.1:$OPENWIRE"/>
            <transportConnector name="stomp" uri="stomp://127.0.0.1:$STOMP"/>
            <transportConnector name="mqtt" uri="mqtt://127.0.0.1:$MQTT"/>
        </transportConnectors>
    </broker>
</beans>
XML
  # Debian's build logs through log4j 1.2 and ignores log4j2 files.
  cat >"$BASE/conf/log4j.properties" <<PROPS
log4j.rootLogger=WARN, logfile
log4j.logger.org.apache.activemq=INFO
log4j.appender.logfile=org.apache.log4j.RollingFileAppender
log4j.appender.logfile.file=$BASE/log/activemq.log
log4j.appender.logfile.maxFileSize=1024KB
log4j.appender.logfile.maxBackupIndex=2
log4j.appender.logfile.layout=org.apache.log4j.PatternLayout
log4j.appender.logfile.layout.ConversionPattern=%d | %-5p | %m | %c | %t%n
PROPS
  # setsid: the broker outlives this script and the test run that started it; 9>&-: it must not
  # inherit the lock, or the next run would wait for the broker to exit.
  setsid nohup java -Xms256M -Xmx256M -Dactivemq.classpath="$BASE/conf" -Dactivemq.home="$HOME_DIR" \
    -Dactivemq.base="$BASE" -Dactivemq.conf="$BASE/conf" -Dactivemq.data="$BASE/data" -Djava.io.tmpdir="$BASE/tmp" \
    -jar "$HOME_DIR/bin/activemq.jar" start "xbean:file:$BASE/conf/activemq.xml" >"$BASE/log/console.log" 2>&1 </dev/null 9>&- &
  did="${did}started from $BASE, "
else
  did="${did}waited for the broker already starting (pid $pid), "
fi

if ! svc_wait 60 "ActiveMQ (openwire :$OPENWIRE, stomp :$STOMP, mqtt :$MQTT)" all_answer; then
  echo "last lines of $BASE/log/console.log:" >&2; tail -n 20 "$BASE/log/console.log" >&2 || true
  exit 1
fi
echo "ActiveMQ openwire :$OPENWIRE, stomp :$STOMP, mqtt :$MQTT: ${did}answering (pid $(our_pid))"
