#!/usr/bin/env bash
# Writes the seed corpus of the conversions fuzz target (tests/fuzz/conversions/)
# from the text-format messages below: each seed is the target's selector byte
# then the message's wire bytes (protoc --encode). Run from anywhere; protoc
# comes with protobuf-compiler (scripts/install-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto_dir="$here/../../proto"
out="$here/conversions"
mkdir -p "$out"

# seed NAME SELECTOR MESSAGE_TYPE TEXT
seed() {
  local name=$1 selector=$2 type=$3 text=$4
  {
    printf "\\x$(printf '%02x' "$selector")"
    printf '%s\n' "$text" | protoc --encode="deepsweep.v1.$type" -I "$proto_dir" \
      -I /usr/include deepsweep/v1/coordinator.proto
  } > "$out/$name"
}

seed list_trials 0 ListTrialsRequest \
  'sweep_id: 3 filters { field: "activation" op: OPERATOR_EQ value: "tanh" }
   filters { field: "final_test_error" op: OPERATOR_LT value: "0.5" }
   order_by: "final_test_error" descending: true limit: 20 offset: 5'
seed list_trials_bad_op 0 ListTrialsRequest 'filters { field: "depth" op: OPERATOR_UNSPECIFIED value: "1" }'
seed list_trials_negative_limit 0 ListTrialsRequest 'limit: -1'
seed acquire 1 AcquireTrialRequest \
  'worker { worker_id: "host-1-42" host: "host-1" pid: 42 version: "0.1.0" cores: 2 }'
seed report 2 ReportCheckpointsRequest \
  'trial_id: 7 lease_id: "7-1-00112233aabbccdd"
   checkpoints { step: 100 examples_seen: 1000 train_nll: 1.5 test_error: 0.4 test_nll: 1.2
     validation_error: 0.41 validation_nll: 1.25 wall_seconds: 0.5
     layer_stats { layer: 1 quantity: LAYER_QUANTITY_ACTIVATION mean: 0.1 std: 0.3 p02: -0.5
       p50: 0.1 p98: 0.7 saturated_fraction: 0.01 jacobian_sv_mean: 0.9 hist_lo: -1 hist_hi: 1
       histogram: [0.1, 0.5, 0.4] }
     layer_stats { layer: 2 quantity: LAYER_QUANTITY_BACKPROP_GRAD std: 0.01 } }'
seed report_bad_quantity 2 ReportCheckpointsRequest \
  'trial_id: 7 checkpoints { step: 1 layer_stats { layer: 1 quantity: LAYER_QUANTITY_UNSPECIFIED } }'
seed complete 3 CompleteTrialRequest 'trial_id: 7 lease_id: "7-1-x" state: TRIAL_STATE_SUCCEEDED'
seed complete_diverged 3 CompleteTrialRequest \
  'trial_id: 7 lease_id: "7-1-x" state: TRIAL_STATE_DIVERGED reason: "NaN loss at step 12"'
seed complete_pending 3 CompleteTrialRequest 'trial_id: 7 state: TRIAL_STATE_PENDING'
seed retry 4 RetryTrialsRequest 'sweep_id: 1 states: [TRIAL_STATE_FAILED, TRIAL_STATE_DIVERGED]'
seed trial 5 Trial \
  'id: 9 sweep_id: 1 index: 3 state: TRIAL_STATE_LEASED attempt: 2 worker_id: "w" attempt_limit: 3
   spec { dataset { name: "shapeset" validation_examples: 2000 test_examples: 2000 }
     activation: "tanh" init: "normalized" depth: 3 width: 300 loss: "nll" learning_rate: 0.05
     batch_size: 10 updates: 8000 checkpoint_every: 1000 probe_examples: 300 seed: 12345
     seed_index: 1 data_seed: 678 histogram_bins: 50 jacobian_examples: 2 keep_weights: "final" }
   final_test_error: 0.3 steps_done: 4000 update_time { seconds: 1764720000 nanos: 5 } rung: 1000'
seed sweep 6 Sweep \
  'id: 1 name: "quick" spec_yaml: "name: quick\n" state: SWEEP_STATE_ACTIVE max_attempts: 3
   create_time { seconds: 1764720000 } counts { pending: 3 leased: 1 succeeded: 2 pruned: 1 }'
seed progress 7 SweepProgress \
  'sweep_id: 1 state: SWEEP_STATE_FINISHED counts { succeeded: 4 failed: 1 }
   running { trial_id: 2 attempt: 1 worker_id: "w" steps_done: 10 updates: 100 }'
seed acquired 8 AcquireTrialResponse \
  'trial { id: 9 sweep_id: 1 state: TRIAL_STATE_LEASED spec { activation: "tanh" depth: 1 } }
   lease { trial_id: 9 lease_id: "9-1-00" attempt: 1 deadline { seconds: 1764720030 }
           ttl { seconds: 30 } }
   retry_after { nanos: 500000000 }'
seed renewal 9 LeaseRenewal \
  'deadline { seconds: 1764720030 } cancelled: true stopped: TRIAL_STATE_PRUNED
   stop_reason: "asha rung 1000" ttl { seconds: 30 }'
