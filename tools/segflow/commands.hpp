#pragma once

namespace seg::cli {

// Each subcommand takes the whole argv; its own arguments start at argv[2].
// Each returns a process exit code (see exit_code in args.hpp).

/// `segflow synth`: writes a synthetic PlanktoScope-layout acquisition.
int run_synth(int argc, char** argv);

/// `segflow segment`: segments acquisitions in one process, then exits.
int run_segment(int argc, char** argv);

/// `segflow demo`: generates a synthetic acquisition and segments it.
int run_demo(int argc, char** argv);

/// `segflow config`: prints the effective settings or checks a file.
int run_config(int argc, char** argv);

/// `segflow serve`: runs the queue service until SIGINT/SIGTERM.
int run_serve(int argc, char** argv);

/// `segflow worker`: joins a running serve on this host with segment workers.
int run_worker(int argc, char** argv);

/// `segflow ctl`: one request to a running serve (or watch its events).
int run_ctl(int argc, char** argv);

/// `segflow mqtt`: the PlanktoScope segmenter's MQTT protocol onto a serve.
int run_mqtt(int argc, char** argv);

/// `segflow bench`: measures the pipeline against the decode floor and the reference.
int run_bench(int argc, char** argv);

/// `segflow replay FILE`: re-drives a trace's inputs and compares messages.
int run_replay(int argc, char** argv);

/// `segflow trace dump|diff`: reads message traces.
int run_trace(int argc, char** argv);

/// `segflow report`: writes the HTML reports of segmented acquisitions.
int run_report(int argc, char** argv);

/// `segflow validate-ecotaxa`: checks archives against EcoTaxa's import rules.
int run_validate_ecotaxa(int argc, char** argv);

/// `segflow certs init DIR`: a small CA and per-host certificates (mutual TLS).
int run_certs(int argc, char** argv);

/// `segflow ops stuck|recover`: the operations journal of a state directory.
int run_ops(int argc, char** argv);

} // namespace seg::cli
