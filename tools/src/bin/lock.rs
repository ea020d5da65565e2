//! `lock -p PID|PROGRAM [on|off]`: is it locked to its node (no move,
//! by hand or by the leveller; see tools/src/switch).

// Each binary uses one variant of `Switch`.
#[allow(dead_code)]
#[path = "../switch/mod.rs"]
mod switch;

fn main() {
    switch::main(switch::Switch::Lock);
}
