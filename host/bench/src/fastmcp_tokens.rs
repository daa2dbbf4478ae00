//! `bench tokens --fastmcp PYTHON`: the same four scenarios through FastMCP 4.1.6 CodeMode
//! (`scripts/fastmcp_tokens_server.py`: the same operations with results of the same shape behind
//! FastMCP's `search`, `get_schema` and `execute`), counted the same way in the same run. The
//! model's steps mirror code mode's: one search, the schemas of the tools it uses, one program
//! (Python run by pydantic-monty, calling `await call_tool(name, args)`), the same answer.

use crate::tokens::{
    Client, Counter, Session, Tally, Truth, files_answer, records_answer, revenue_answer,
};
use anyhow::Context;
use rmcp::ServiceExt;
use serde_json::{Value, json};
use std::path::Path;

/// Connects to FastMCP's server over stdio: `python server DATA` (DATA is seen as `/data`).
pub(crate) async fn connect(python: &Path, server: &Path, data: &Path) -> anyhow::Result<Client> {
    let mut command = tokio::process::Command::new(python);
    command.arg(server).arg(data).stderr(std::process::Stdio::null());
    let transport = rmcp::transport::TokioChildProcess::new(command)
        .with_context(|| format!("starting {} {}", python.display(), server.display()))?;
    ().serve(transport).await.context("connecting to the FastMCP server")
}

/// One scenario: search, schemas, one program; returns the program's value and the tally.
async fn run_one(
    client: &Client,
    counter: &Counter,
    query: &str,
    schemas: &[&str],
    program: &str,
    answer: &str,
) -> anyhow::Result<(Value, Tally)> {
    let mut s = Session::new(client, counter).await?;
    s.call("search", json!({"query": query})).await?;
    s.call("get_schema", json!({"tools": schemas})).await?;
    let text = s.call("execute", json!({"code": program})).await?;
    let value = serde_json::from_str(&text).with_context(|| format!("execute returned {text}"))?;
    Ok((value, s.answer(answer)))
}

/// The four scenarios through FastMCP CodeMode, each checked against the truth.
pub(crate) async fn scenarios(
    client: &Client,
    counter: &Counter,
    truth: &Truth,
) -> anyhow::Result<Vec<Tally>> {
    let mut out = Vec::new();
    let files = r#"tests = []
offset = 0
while True:
    page = await call_tool('list_files', {'path': '/data/files', 'limit': 10000, 'offset': offset})
    for f in page['files']:
        if f['path'].split('/')[-1].startswith('test_'):
            tests.append(f['path'])
    if not page['truncated']:
        break
    offset += 10000
return tests"#;
    let (got, tally) = run_one(
        client,
        counter,
        "list files in a directory",
        &["list_files"],
        files,
        &files_answer(truth),
    )
    .await?;
    anyhow::ensure!(got == json!(truth.test_files), "FastMCP found {got}");
    out.push(tally);
    let transcript = r#"r = await call_tool('read_file', {'path': '/data/meeting/transcript.txt', 'limit': 100000})
text = r['result']
items = [l.split('ACTION: ', 1)[1] for l in text.splitlines() if 'ACTION: ' in l]
content = '# Action items\n' + ''.join(['- ' + i + '\n' for i in items])
await call_tool('write_file', {'path': 'action-items.md', 'content': content})
return {'action_items': len(items)}"#;
    let answer = format!("Wrote {} action items to action-items.md.", truth.action_count);
    let (got, tally) = run_one(
        client,
        counter,
        "read a text file",
        &["read_file", "write_file"],
        transcript,
        &answer,
    )
    .await?;
    anyhow::ensure!(got["action_items"] == truth.action_count, "FastMCP found {got}");
    out.push(tally);
    let revenue = r#"revenue = {}
for offset in range(0, 10000, 1000):
    r = await call_tool('csv_filter', {'path': '/data/sales.csv', 'limit': 1000, 'offset': offset})
    for row in r['rows']:
        revenue[row['region']] = revenue.get(row['region'], 0.0) + float(row['units']) * float(row['price'])
return dict(sorted(revenue.items()))"#;
    let (got, tally) = run_one(
        client,
        counter,
        "rows of a CSV file",
        &["csv_filter"],
        revenue,
        &revenue_answer(truth),
    )
    .await?;
    anyhow::ensure!(close(&got, &Value::Object(truth.revenue.clone())), "FastMCP summed {got}");
    out.push(tally);
    let records = r#"sums = {}
for r in range(1, 16):
    name = 'r' + str(r).zfill(2)
    res = await call_tool('csv_aggregate', {'path': '/data/records/' + name + '.csv', 'column': 'units', 'ops': ['sum']})
    sums[name] = res['results'][0]['sum']
return sums"#;
    let (got, tally) = run_one(
        client,
        counter,
        "sum a column of a CSV file",
        &["csv_aggregate"],
        records,
        &records_answer(truth),
    )
    .await?;
    anyhow::ensure!(close(&got, &Value::Object(truth.record_sums.clone())), "FastMCP summed {got}");
    out.push(tally);
    Ok(out)
}

/// The same keys, and numbers equal to 1e-9 relative (the sums are added in another order).
fn close(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return false };
    a.len() == b.len()
        && a.iter().all(|(k, x)| {
            let (x, y) = (x.as_f64(), b.get(k).and_then(Value::as_f64));
            matches!((x, y), (Some(x), Some(y)) if (x - y).abs() <= 1e-9 * y.abs().max(1.0))
        })
}
