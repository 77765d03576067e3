#!/usr/bin/env bash
# docker-compose's Kafka: the official apache/kafka image, with SASL/SCRAM sign-in.
# Its own start script (/etc/kafka/docker/run) formats the storage without users; so,
# once, on an empty volume, format it here first with one SCRAM-SHA-256 user per
# principal (tools/infra/kafka_principals.py), from SCRAM_<NAME>_PASSWORD. The image's
# start then finds the storage formatted and starts the broker as configured (KAFKA_*).
# Later users (an organiser onboarded) are added at runtime: tools.infra.onboard_organiser.
set -euo pipefail

data="${KAFKA_LOG_DIRS:-/var/lib/kafka/data}"
principals="broker admin operator intake capacity matching reporting org-zonneke org-bolleboos"

# For the healthcheck (kafka-broker-api-versions.sh --command-config): the admin signs in.
cat > /tmp/loket-admin.properties <<CONFIG
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${SCRAM_ADMIN_PASSWORD}";
CONFIG

if [ ! -f "${data}/meta.properties" ]; then
  conf="$(mktemp)"
  cat > "${conf}" <<CONFIG
process.roles=${KAFKA_PROCESS_ROLES}
node.id=${KAFKA_NODE_ID}
controller.quorum.voters=${KAFKA_CONTROLLER_QUORUM_VOTERS}
controller.listener.names=${KAFKA_CONTROLLER_LISTENER_NAMES}
listeners=${KAFKA_LISTENERS}
listener.security.protocol.map=${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP}
inter.broker.listener.name=${KAFKA_INTER_BROKER_LISTENER_NAME}
log.dirs=${data}
CONFIG
  users=()
  for name in ${principals}; do
    variable="SCRAM_$(echo "${name}" | tr 'a-z-' 'A-Z_')_PASSWORD"
    users+=(--add-scram "SCRAM-SHA-256=[name=${name},password=${!variable}]")
  done
  echo "formatting ${data} with SCRAM users: ${principals}"
  /opt/kafka/bin/kafka-storage.sh format -t "${CLUSTER_ID}" -c "${conf}" "${users[@]}"
  rm -f "${conf}"
fi
exec /etc/kafka/docker/run
