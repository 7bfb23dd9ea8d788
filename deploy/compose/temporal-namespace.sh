#!/bin/sh
# Create nurture's namespace and register every search attribute nurture upserts (nurture/keys.py; a test keeps
# this list and that module in step). Idempotent: what exists is left alone.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}"
export TEMPORAL_ADDRESS

tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -ge 60 ] && { echo "temporal-namespace: server not healthy after 60 tries"; exit 1; }
  echo "temporal-namespace: waiting for the server ($tries)"
  sleep 2
done

temporal operator namespace describe -n "$NAMESPACE" >/dev/null 2>&1 \
  || temporal operator namespace create -n "$NAMESPACE" --retention 720h

existing=$(temporal operator search-attribute list -n "$NAMESPACE")
for pair in \
  NurtureJourney=Keyword \
  NurtureContactId=Keyword \
  NurtureStage=Keyword \
  NurturePersona=Keyword \
  NurtureLeadScore=Double \
  NurtureNextDropAt=Datetime \
  NurtureDropsSent=Int \
  NurturePhase=Keyword \
  NurtureTopics=KeywordList \
  NurtureLifecycleStage=Keyword \
  NurtureBroadcastId=Keyword \
  NurtureBroadcastState=Keyword \
  NurtureBroadcastSignalled=Int
do
  name=${pair%%=*}
  type=${pair#*=}
  if echo "$existing" | grep -qw "$name"; then
    echo "temporal-namespace: $name registered"
  else
    temporal operator search-attribute create -n "$NAMESPACE" --name "$name" --type "$type"
  fi
done
echo "temporal-namespace: done"
