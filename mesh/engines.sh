#!/usr/bin/env bash
# The two JVM engines of the mesh, installed from Maven Central and run with the machine's
# JDK: Apache Kafka 4.4 in KRaft mode (one combined broker + controller) and Apache
# Cassandra 5.0, the CQL server the ScyllaDB stores run against on machines without
# ScyllaDB. test.sh, `tribe up` and the tests that restart an engine of their own all start
# them through this script, so the JVM flags and configuration live in one place.
#
#   engines.sh install                              fetch both into .tools/ (idempotent)
#   engines.sh kafka-run DIR PORT CONTROLLER_PORT   run Kafka in the foreground, state in DIR
#   engines.sh cql-run DIR PORT STORAGE_PORT        run Cassandra in the foreground, state in DIR
#   engines.sh wait NAME HOST:PORT LOG [SECONDS]    wait until NAME answers, with progress
#
# The run commands exec the JVM, so the caller's child pid is the engine's pid. A DIR that
# already holds data is reused: Kafka keeps its log and committed offsets across restarts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TRIBE_TOOLS_DIR:-$ROOT/.tools}"
KAFKA_HOME="$TOOLS/kafka"
CQL_HOME="$TOOLS/cassandra"
KAFKA_HEAP="${TRIBE_KAFKA_HEAP:-512m}"
CQL_HEAP="${TRIBE_CQL_HEAP:-1g}"
# Extra JVM flags per engine, e.g. test.sh's -XX:TieredStopAtLevel=1 for Kafka (C1 only:
# half the start-up time on two busy cores, plenty of speed for tests).
read -r -a KAFKA_JVM_OPTS <<<"${TRIBE_KAFKA_JVM_OPTS:-}"
read -r -a CQL_JVM_OPTS <<<"${TRIBE_CQL_JVM_OPTS:-}"

ok() { printf '    ok: %s\n' "$*"; }
die() { printf 'engines.sh: %s\n' "$*" >&2; exit 1; }

# Copies one pom's artifact and its runtime dependencies into $2/lib, unless the same pom
# was installed there before (the pom's checksum is the marker).
install_from_pom() {
  local pom_dir="$1" home="$2" name="$3" sum
  sum="$(sha256sum "$pom_dir/pom.xml" | cut -d' ' -f1)"
  if [ -f "$home/.installed" ] && [ "$(cat "$home/.installed")" = "$sum" ]; then
    ok "$name present ($home)"; return
  fi
  printf '    fetching %s and its dependencies from Maven Central (about 30 s the first time)\n' "$name"
  rm -rf "$home/lib"
  mkdir -p "$home"
  if ! (cd "$pom_dir" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home/lib") >"$home/mvn.log" 2>&1; then
    cat "$home/mvn.log" >&2; die "mvn could not fetch $name"
  fi
  echo "$sum" >"$home/.installed"
  ok "$name installed ($(find "$home/lib" -name '*.jar' | wc -l) jars)"
}

install() {
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if [ ${#missing[@]} -gt 0 ]; then
    printf '    installing debian packages: %s\n' "${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  java -version 2>&1 | head -1 | grep -qE '"(1[7-9]|2[0-9])' || die "Kafka 4.4 and Cassandra 5.0 need Java 17 or newer ($(java -version 2>&1 | head -1))"
  install_from_pom "$ROOT/mesh/engines/kafka" "$KAFKA_HOME" "Apache Kafka 4.4.0"
  install_from_pom "$ROOT/mesh/engines/cassandra" "$CQL_HOME" "Apache Cassandra 5.0.9"
}

kafka_run() {
  local dir="$1" port="$2" controller="$3"
  mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"  # the JVM needs absolute paths
  [ -d "$KAFKA_HOME/lib" ] || die "Kafka is not installed: run mesh/setup.sh"
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
# Written by mesh/engines.sh on every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Services create their topics (ensure_topics); a typo must not create a new one.
auto.create.topics.enable=false
num.partitions=${TRIBE_KAFKA_PARTITIONS:-6}
# A consumer group starts at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
# Tests create thousands of small topics: small preallocated index files.
log.index.size.max.bytes=1048576
num.network.threads=2
num.io.threads=4
EOF
  cat >"$dir/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
EOF
  local cp="$KAFKA_HOME/lib/*"
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster
    cluster="$(java "${KAFKA_JVM_OPTS[@]}" -cp "$cp" kafka.tools.StorageTool random-uuid)"
    java "${KAFKA_JVM_OPTS[@]}" -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cp" kafka.tools.StorageTool \
      format --standalone --cluster-id "$cluster" --config "$dir/server.properties" >/dev/null
    echo "formatted KRaft storage in $dir/data (cluster $cluster)"
  fi
  exec java "${KAFKA_JVM_OPTS[@]}" -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$cp" kafka.Kafka "$dir/server.properties"
}

cql_run() {
  local dir="$1" port="$2" storage="$3"
  mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"  # file:// URLs and the JVM need absolute paths
  [ -d "$CQL_HOME/lib" ] || die "Cassandra is not installed: run mesh/setup.sh"
  mkdir -p "$dir"
  cat >"$dir/cassandra.yaml" <<EOF
# Written by mesh/engines.sh on every start: one node on loopback, no authentication,
# small caches and memtables, for tests and a local mesh. Production runs ScyllaDB.
cluster_name: trainertribe-local
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
data_file_directories: [$dir/data]
commitlog_directory: $dir/commitlog
saved_caches_directory: $dir/saved_caches
hints_directory: $dir/hints
cdc_raw_directory: $dir/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$storage"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $storage
native_transport_port: $port
start_native_transport: true
endpoint_snitch: SimpleSnitch
dynamic_snitch: false
auto_bootstrap: false
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
key_cache_size: 8MiB
counter_cache_size: 0MiB
prepared_statements_cache_size: 16MiB
# Tests create a keyspace each; do not snapshot what DROP KEYSPACE removes.
auto_snapshot: false
EOF
  cat >"$dir/logback.xml" <<'EOF'
<configuration>
  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level %date{ISO8601} %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="out"/></root>
  <logger name="org.apache.cassandra.service.StorageService" level="INFO"/>
</configuration>
EOF
  # The JDK 17 module flags Cassandra 5.0 ships in conf/jvm17-server.options.
  local jpms=(
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true
  )
  local jamm
  jamm="$(find "$CQL_HOME/lib" -name 'jamm-*.jar' | head -1)"
  # One node: no gossip settling and no ring delay (they exist to let peers join).
  exec java "${CQL_JVM_OPTS[@]}" -Xms"$CQL_HEAP" -Xmx"$CQL_HEAP" -XX:+UseG1GC -Xss256k -XX:+ExitOnOutOfMemoryError \
    -javaagent:"$jamm" "${jpms[@]}" \
    -Dcassandra.config="file://$dir/cassandra.yaml" -Dcassandra-foreground=yes \
    -Dcassandra.storagedir="$dir" -Dlogback.configurationFile="$dir/logback.xml" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.ring_delay_ms=100 \
    -cp "$CQL_HOME/lib/*" org.apache.cassandra.service.CassandraDaemon
}

# Waits until HOST:PORT accepts connections, printing a dot every 2 s; fails with the log's
# tail if PID (optional, 5th argument) exits first or SECONDS pass.
wait_for() {
  local name="$1" addr="$2" log="$3" seconds="${4:-120}" pid="${5:-}"
  local host="${addr%:*}" port="${addr##*:}" waited=0
  printf '    waiting for %s on %s ' "$name" "$addr"
  while ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      printf '\n%s exited; last lines of %s:\n' "$name" "$log" >&2; tail -n 30 "$log" >&2; return 1
    fi
    if [ "$waited" -ge $((seconds * 10)) ]; then
      printf '\n%s did not answer within %ss; last lines of %s:\n' "$name" "$seconds" "$log" >&2; tail -n 30 "$log" >&2; return 1
    fi
    sleep 0.1; waited=$((waited + 1))
    [ $((waited % 20)) -eq 0 ] && printf '.'
  done
  printf ' up after %s.%ss\n' $((waited / 10)) $((waited % 10))
}

case "${1:-}" in
  install) install ;;
  kafka-run) [ $# -eq 4 ] || die "usage: engines.sh kafka-run DIR PORT CONTROLLER_PORT"; kafka_run "$2" "$3" "$4" ;;
  cql-run) [ $# -eq 4 ] || die "usage: engines.sh cql-run DIR PORT STORAGE_PORT"; cql_run "$2" "$3" "$4" ;;
  wait) [ $# -ge 4 ] || die "usage: engines.sh wait NAME HOST:PORT LOG [SECONDS [PID]]"; wait_for "$2" "$3" "$4" "${5:-120}" "${6:-}" ;;
  *) die "usage: engines.sh install | kafka-run DIR PORT CONTROLLER_PORT | cql-run DIR PORT STORAGE_PORT | wait NAME HOST:PORT LOG [SECONDS [PID]]" ;;
esac
