# Starts and stops the tansu Kafka-compatible broker. Sourced by test.sh; `tribe up`
# starts its own durable broker.
BROKER_PORT="${TRIBE_KAFKA_PORT:-9092}"
BROKER_DIR="${TRIBE_STATE_DIR:-$ROOT/.tribe}/broker-test"
BROKER_PID=""

broker_start_for_tests() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT") 2>/dev/null; then
    echo "    a broker already listens on 127.0.0.1:$BROKER_PORT; using it"
    return
  fi
  mkdir -p "$BROKER_DIR"
  (cd "$BROKER_DIR" && exec tansu broker \
      --storage-engine "memory://tansu/" \
      --listener-url "tcp://127.0.0.1:$BROKER_PORT" \
      --advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" \
      >"$BROKER_DIR/broker.log" 2>&1) &
  BROKER_PID=$!
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT") 2>/dev/null; then
      echo "    tansu broker on 127.0.0.1:$BROKER_PORT (pid $BROKER_PID, log $BROKER_DIR/broker.log)"
      export TRIBE_KAFKA_BROKERS="127.0.0.1:$BROKER_PORT"
      return
    fi
    sleep 0.1
  done
  echo "broker did not start; log:" >&2
  cat "$BROKER_DIR/broker.log" >&2
  exit 1
}

broker_stop() {
  if [ -n "$BROKER_PID" ]; then
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
  fi
}
