//! `loadlevel -p PID|PROGRAM [on|off]`: may the load leveller move it
//! (see tools/src/switch).

// Each binary uses one variant of `Switch`.
#[allow(dead_code)]
#[path = "../switch/mod.rs"]
mod switch;

fn main() {
    switch::main(switch::Switch::Loadlevel);
}
