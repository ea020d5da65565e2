//! Fuzzes the `peers=` parser (module parameter and admin/add input): no
//! panic, and whatever parses prints back to a string that parses the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vproc_logic::peers::parse_peers;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = parse_peers(data) {
        let shown: Vec<String> = t.iter().map(|p| p.to_string()).collect();
        let again = parse_peers(shown.join(",").as_bytes()).expect("round trip");
        assert_eq!(again, t);
    }
});
