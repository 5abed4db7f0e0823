//! The tables of [`crate::tables`] for the TypeScript side: `ts/backend/abi.generated.ts`, and the
//! same tables as JSON ([`abi_json`]) that a loaded binding reports, so the TypeScript loader can
//! refuse a binary built from other tables.
//!
//! The generated file is committed; `cargo test -p gamewire-abi` fails when it is out of date, and
//! `GAMEWIRE_UPDATE_ABI=1 cargo test -p gamewire-abi generated_typescript` rewrites it.

use core::fmt::Write;

use gamewire_core::codec::HeaderError;

use crate::stats_fields;
use crate::tables::{self, Entry, CONFIG_FIELDS};

/// Where the generated file lives, relative to the workspace root.
pub const GENERATED_PATH: &str = "ts/backend/abi.generated.ts";

trait Num: Copy {
    fn js(self) -> String;
}
macro_rules! num {
    ($($t:ty),*) => { $(impl Num for $t { fn js(self) -> String { self.to_string() } })* };
}
num!(i32, u32, u8);

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn table_json<T: Num>(entries: &[Entry<T>]) -> String {
    let rows: Vec<String> =
        entries.iter().map(|e| format!("[{},{},{}]", quote(e.name), e.value.js(), quote(e.js))).collect();
    format!("[{}]", rows.join(","))
}

fn names_json(names: &[&str]) -> String {
    let rows: Vec<String> = names.iter().map(|n| quote(n)).collect();
    format!("[{}]", rows.join(","))
}

/// Every table as one JSON object: `{ "code": [[name, value, js], …], …, "config": [...], "stats": [...] }`.
pub fn abi_json() -> String {
    format!(
        "{{\"code\":{},\"eventKind\":{},\"closeReason\":{},\"dropReason\":{},\"headerError\":{},\"peerStatus\":{},\"retryMode\":{},\"connectionStatus\":{},\"layout\":{},\"config\":{},\"stats\":{}}}",
        table_json(tables::code::ENTRIES),
        table_json(tables::event_kind::ENTRIES),
        table_json(tables::close_reason::ENTRIES),
        table_json(tables::drop_reason::ENTRIES),
        table_json(tables::header_error::ENTRIES),
        table_json(tables::peer_status::ENTRIES),
        table_json(tables::retry_mode::ENTRIES),
        table_json(tables::connection_status::ENTRIES),
        table_json(tables::layout::ENTRIES),
        names_json(CONFIG_FIELDS),
        names_json(&stats_fields()),
    )
}

fn doc(out: &mut String, indent: &str, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if lines.len() == 1 {
        let _ = writeln!(out, "{indent}/** {} */", lines[0]);
    } else {
        let _ = writeln!(out, "{indent}/**");
        for l in lines {
            let _ = writeln!(out, "{indent} * {l}");
        }
        let _ = writeln!(out, "{indent} */");
    }
}

/// `export const NAME = { KEY: value, … } as const;`, keyed by the Rust names.
fn const_object<T: Num>(out: &mut String, name: &str, table_doc: &str, entries: &[Entry<T>], key_js: bool) {
    doc(out, "", table_doc);
    let _ = writeln!(out, "export const {name} = {{");
    for e in entries {
        doc(out, "  ", e.doc);
        let key = if key_js { e.js } else { e.name };
        let _ = writeln!(out, "  {key}: {},", e.value.js());
    }
    let _ = writeln!(out, "}} as const;\n");
}

/// `export const NAME: Readonly<Record<number, 'a' | …>> = { 1: 'a', … };` (value to JavaScript name).
fn names_by_value<T: Num>(out: &mut String, name: &str, type_name: &str, entries: &[Entry<T>]) {
    let union: Vec<String> = entries.iter().map(|e| format!("'{}'", e.js)).collect();
    let _ = writeln!(out, "export type {type_name} = {};\n", union.join(" | "));
    let _ = writeln!(out, "export const {name}: Readonly<Record<number, {type_name}>> = {{");
    for e in entries {
        let _ = writeln!(out, "  {}: '{}',", e.value.js(), e.js);
    }
    let _ = writeln!(out, "}};\n");
}

fn ts_enum<T: Num>(out: &mut String, name: &str, table_doc: &str, entries: &[Entry<T>]) {
    doc(out, "", table_doc);
    let _ = writeln!(out, "export enum {name} {{");
    for e in entries {
        doc(out, "  ", e.doc);
        let _ = writeln!(out, "  {} = {},", e.js, e.value.js());
    }
    let _ = writeln!(out, "}}\n");
}

fn header_error_message(code: u32) -> String {
    use tables::header_error as H;
    match code {
        H::TOO_SHORT => HeaderError::TooShort.to_string(),
        H::UNKNOWN_TYPE => "unknown packet type".to_string(),
        H::BAD_MAGIC => HeaderError::BadMagic.to_string(),
        H::WRONG_DIRECTION => HeaderError::WrongDirection.to_string(),
        _ => String::new(),
    }
}

/// The contents of `ts/backend/abi.generated.ts`.
pub fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "// Generated from crates/abi/src/tables.rs by `GAMEWIRE_UPDATE_ABI=1 cargo test -p gamewire-abi \
         generated_typescript`.\n// Do not edit: `cargo test` fails when this file and the Rust tables differ, \
         and the loader\n// refuses a binding whose tables differ from these.\n\n",
    );
    out.push_str("/** Every table as the bindings report it (`layout()`), for the load-time check. */\n");
    let _ = writeln!(out, "export const ABI_JSON = {};\n", quote(&abi_json()));
    const_object(&mut out, "CODE", tables::code::DOC, tables::code::ENTRIES, false);
    const_object(&mut out, "EV", tables::event_kind::DOC, tables::event_kind::ENTRIES, false);
    names_by_value(&mut out, "CLOSE_REASONS", "CloseReason", tables::close_reason::ENTRIES);
    names_by_value(&mut out, "DROP_REASONS", "DropReasonName", tables::drop_reason::ENTRIES);
    const_object(&mut out, "PEER_STATUS", tables::peer_status::DOC, tables::peer_status::ENTRIES, false);
    const_object(&mut out, "LAYOUT", tables::layout::DOC, tables::layout::ENTRIES, true);
    doc(&mut out, "", tables::header_error::DOC);
    out.push_str("export const HEADER_ERRORS: Readonly<Record<number, readonly [code: string, message: string]>> = {\n");
    for e in tables::header_error::ENTRIES.iter().filter(|e| e.value != 0) {
        let _ = writeln!(out, "  {}: [{}, {}],", e.value, quote(e.js), quote(&header_error_message(e.value)));
    }
    out.push_str("};\n\n");
    let _ = writeln!(out, "/** Names of the flat configuration array, in order (seconds for durations). */");
    let _ = writeln!(
        out,
        "export const CONFIG_FIELDS = {} as const;\n",
        names_json(CONFIG_FIELDS).replace(',', ", ")
    );
    let _ = writeln!(out, "/** Names of the flat statistics array: the counters, then the gauges. */");
    let _ = writeln!(
        out,
        "export const STATS_FIELDS = {} as const;\n",
        names_json(&stats_fields()).replace(',', ", ")
    );
    ts_enum(&mut out, "RetryMode", tables::retry_mode::DOC, tables::retry_mode::ENTRIES);
    ts_enum(&mut out, "ConnectionStatus", tables::connection_status::DOC, tables::connection_status::ENTRIES);
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed TypeScript equals what the tables generate. On a mismatch, rerun with
    /// `GAMEWIRE_UPDATE_ABI=1` to rewrite the file.
    #[test]
    fn generated_typescript_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(GENERATED_PATH);
        let want = render();
        if std::env::var_os("GAMEWIRE_UPDATE_ABI").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{GENERATED_PATH} is out of date with crates/abi/src/tables.rs: run \
             `GAMEWIRE_UPDATE_ABI=1 cargo test -p gamewire-abi generated_typescript`"
        );
    }

    /// The JSON parses, and every table in it has the entries of its Rust table.
    #[test]
    fn abi_json_is_valid_and_complete() {
        let v: serde_json::Value = serde_json::from_str(&abi_json()).unwrap();
        assert_eq!(v["code"].as_array().unwrap().len(), tables::code::ENTRIES.len());
        assert_eq!(v["config"].as_array().unwrap().len(), CONFIG_FIELDS.len());
        assert_eq!(v["eventKind"][6][2], "transmit");
    }

    /// No value or JavaScript name appears twice in a table (a copy-paste slip would make two
    /// results indistinguishable).
    #[test]
    fn table_entries_are_distinct() {
        fn check<T: Num + PartialEq>(entries: &[Entry<T>]) {
            for (i, a) in entries.iter().enumerate() {
                for b in &entries[i + 1..] {
                    assert!(a.value != b.value && a.js != b.js, "{} and {} collide", a.name, b.name);
                }
            }
        }
        check(tables::code::ENTRIES);
        check(tables::event_kind::ENTRIES);
        check(tables::close_reason::ENTRIES);
        check(tables::drop_reason::ENTRIES);
        check(tables::header_error::ENTRIES);
        check(tables::peer_status::ENTRIES);
        check(tables::retry_mode::ENTRIES);
        check(tables::connection_status::ENTRIES);
    }
}
