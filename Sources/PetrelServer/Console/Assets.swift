/// The console's only stylesheet and script, written by hand and served from memory.
enum Assets {
    static let css = """
        :root { --fg:#1d2330; --muted:#687086; --line:#dde1ea; --bg:#f6f7fa; --accent:#0b6bcb; --ok:#1f883d; \
        --bad:#cf222e; --warn:#9a6700; }
        * { box-sizing: border-box; }
        body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); \
        background:var(--bg); }
        header { background:#14213d; color:#fff; padding:.5rem 1rem; display:flex; flex-wrap:wrap; \
        align-items:center; gap:.75rem; }
        header a { color:#dfe7f5; text-decoration:none; }
        .brand { font-weight:700; font-size:1.1rem; color:#fff; margin-right:1rem; }
        nav { display:flex; flex-wrap:wrap; gap:.25rem .9rem; align-items:center; flex:1; }
        nav a.active { color:#fff; border-bottom:2px solid #7fb3ff; }
        .signout { margin-left:auto; display:flex; gap:.5rem; align-items:center; }
        .account { color:#b9c6dd; font-size:.9rem; }
        main { max-width:1100px; margin:0 auto; padding:1rem; }
        h1 { font-size:1.4rem; margin:.5rem 0 1rem; }
        h2 { font-size:1.1rem; margin:1.5rem 0 .5rem; }
        .cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:.75rem; }
        .card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.75rem; }
        .card .n { font-size:1.6rem; font-weight:600; }
        .card .l { color:var(--muted); font-size:.85rem; }
        .scroll { overflow-x:auto; }
        table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
        th, td { text-align:left; padding:.4rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; \
        font-size:.92rem; }
        th { background:#eef1f6; font-weight:600; }
        form.inline { display:inline; }
        form.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(180px, 1fr)); gap:.6rem; \
        align-items:end; background:#fff; border:1px solid var(--line); border-radius:8px; padding:.75rem; }
        label { display:flex; flex-direction:column; font-size:.85rem; color:var(--muted); gap:.2rem; }
        input, select, textarea, button { font:inherit; padding:.4rem .5rem; border:1px solid #b8bfcc; \
        border-radius:6px; }
        textarea { min-height:5rem; }
        .wide { grid-column:1 / -1; }
        button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
        button.secondary { background:#fff; color:var(--accent); }
        button.danger { background:var(--bad); border-color:var(--bad); }
        .status { font-weight:600; }
        .s-delivered { color:var(--ok); } .s-failed, .s-expired { color:var(--bad); \
        } .s-queued, .s-submitting, .s-sent { color:var(--warn); }
        .empty, .muted { color:var(--muted); }
        .error { background:#ffebe9; border:1px solid #ffcecb; padding:.6rem; border-radius:6px; }
        .notice { background:#dafbe1; border:1px solid #aceebb; padding:.6rem; border-radius:6px; }
        .banner { margin-bottom:1rem; } .banner ul { margin:0; padding-left:1.2rem; }
        .login { max-width:380px; margin:3rem auto; }
        .login form { display:flex; flex-direction:column; gap:.75rem; background:#fff; padding:1rem; \
        border:1px solid var(--line); border-radius:8px; }
        .inbox { display:grid; grid-template-columns:minmax(160px, 240px) 1fr; gap:1rem; }
        .numbers a { display:block; padding:.4rem .6rem; border-radius:6px; text-decoration:none; color:var(--fg); }
        .numbers a.active { background:#dbe9ff; }
        .phone { width:320px; max-width:100%; min-height:480px; border:10px solid #222; border-radius:32px; \
        background:#fff; padding:1rem .75rem; display:flex; flex-direction:column; gap:.5rem; }
        .phone .to { text-align:center; font-weight:600; border-bottom:1px solid var(--line); padding-bottom:.4rem; }
        .bubble { background:#e9e9eb; border-radius:16px; padding:.5rem .75rem; max-width:90%; \
        white-space:pre-wrap; overflow-wrap:anywhere; }
        .bubble .meta { display:block; color:var(--muted); font-size:.75rem; margin-top:.2rem; }
        .bubble.reply { background:#0b84ff; color:#fff; align-self:flex-end; }
        .bubble.reply .meta { color:#dbe9ff; }
        .bar { background:#e3e7ee; border-radius:6px; height:14px; overflow:hidden; }
        .bar > span { display:block; height:100%; background:var(--accent); }
        svg text { font-size:10px; fill:var(--muted); }
        .legend span { margin-right:1rem; font-size:.85rem; }
        .legend i { display:inline-block; width:10px; height:10px; margin-right:.3rem; }
        @media (max-width:640px) { .inbox { grid-template-columns:1fr; } .phone { width:100%; } }
        """

    /// Live updates by polling: an element with `data-refresh="URL"` has its content replaced by that URL's
    /// HTML fragment every two seconds (only while the tab is visible).
    static let js = """
        "use strict";
        document.addEventListener("DOMContentLoaded", function () {
          document.querySelectorAll("[data-refresh]").forEach(function (el) {
            var url = el.getAttribute("data-refresh");
            setInterval(function () {
              if (document.hidden) return;
              fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
                .then(function (r) { return r.ok ? r.text() : null; })
                .then(function (html) { if (html !== null && html !== el.innerHTML) el.innerHTML = html; })
                .catch(function () {});
            }, 2000);
          });
          document.querySelectorAll("form[data-confirm]").forEach(function (f) {
            f.addEventListener("submit", function (e) { \
        if (!confirm(f.getAttribute("data-confirm"))) e.preventDefault(); });
          });
        });
        """
}
