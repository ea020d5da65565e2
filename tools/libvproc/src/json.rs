//! JSON output of the tools: this file owns a minimal JSON object writer
//! (string escaping included) and the JSON form of the record types, so
//! that every tool prints the same field names.

use std::fmt::Write;

use crate::api::{Event, NodeInfo, ProcInfo};

/// Quotes and escapes `s` as a JSON string.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Builds one JSON object, field by field, in insertion order.
#[derive(Debug, Default)]
pub struct Object(String);

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field whose value is already JSON.
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        self.0.push(if self.0.is_empty() { '{' } else { ',' });
        self.0.push_str(&string(key));
        self.0.push(':');
        self.0.push_str(json);
        self
    }

    /// Adds a number field.
    pub fn num(self, key: &str, v: impl Into<u64>) -> Self {
        self.raw(key, &v.into().to_string())
    }

    /// Adds a number field, `null` if absent.
    pub fn opt(self, key: &str, v: Option<impl Into<u64>>) -> Self {
        match v {
            Some(v) => self.num(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// Adds a boolean field.
    pub fn bool(self, key: &str, v: bool) -> Self {
        self.raw(key, if v { "true" } else { "false" })
    }

    /// Adds a string field.
    pub fn str(self, key: &str, v: &str) -> Self {
        let s = string(v);
        self.raw(key, &s)
    }

    /// The finished object.
    pub fn end(mut self) -> String {
        if self.0.is_empty() {
            self.0.push('{');
        }
        self.0.push('}');
        self.0
    }
}

/// A JSON array of already-encoded values.
pub fn array<I: IntoIterator<Item = String>>(items: I) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

impl ProcInfo {
    /// The process as a JSON object.
    pub fn to_json(&self) -> String {
        Object::new()
            .num("pid", self.pid)
            .num("node", self.node)
            .num("home", self.home)
            .bool("loadlevel", self.loadlevel)
            .bool("lock", self.lock)
            .num("nmigs", self.nmigs)
            .num("uid", self.uid)
            .str("state", &self.state.to_string())
            .num("ppid", self.ppid)
            .num("cpu_ms", self.cpu_ms)
            .num("rss_kib", self.rss_kib)
            .str("comm", &self.comm)
            .end()
    }
}

impl NodeInfo {
    /// The node as a JSON object (absent figures are `null`).
    pub fn to_json(&self) -> String {
        let ll = match self.loadlevel {
            Some(b) => b.to_string(),
            None => "null".into(),
        };
        Object::new()
            .num("id", self.id)
            .bool("self", self.is_self)
            .str("state", &self.state)
            .opt("loadavg", self.loadavg)
            .opt("runnable", self.runnable)
            .opt("busy", self.busy)
            .opt("cpus", self.cpus)
            .opt("speed", self.speed)
            .opt("vprocs", self.vprocs)
            .opt("free_kib", self.free_kib)
            .opt("total_kib", self.total_kib)
            .raw("loadlevel", &ll)
            .opt("heard_ms", self.heard_ms)
            .end()
    }
}

impl Event {
    /// The event as a JSON object.
    pub fn to_json(&self) -> String {
        Object::new()
            .num("seq", self.seq)
            .num("time_ms", self.time_ms)
            .str("kind", &self.kind)
            .num("node", self.node)
            .str("detail", &self.detail)
            .end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(string("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
        assert_eq!(Object::new().end(), "{}");
        assert_eq!(
            Object::new()
                .num("a", 1u32)
                .str("b", "x")
                .opt("c", None::<u32>)
                .end(),
            "{\"a\":1,\"b\":\"x\",\"c\":null}"
        );
        assert_eq!(array(vec!["1".into(), "2".into()]), "[1,2]");
    }
}
