import PetrelCore

/// The console's only stylesheet and script, written by hand and served from memory.
enum Assets {
    /// Light and dark from `prefers-color-scheme` through the same variables; contrast at least 4.5:1 for text
    /// (the accessibility test scans both).
    static let css = """
        :root { color-scheme:light dark; --fg:#1d2330; --muted:#5a6177; --line:#d5dae4; --bg:#f6f7fa; \
        --card:#fff; --head:#eef1f6; --link:#0a58a8; --accent:#0b6bcb; --ok:#1a7f37; --bad:#c21f2a; --warn:#8a5c00; \
        --pick:#dbe9ff; --bubble:#e9e9eb; --reply:#0a62ba; --error:#ffebe9; --error-line:#ffcecb; \
        --notice:#dafbe1; --notice-line:#aceebb; --track:#e3e7ee; }
        @media (prefers-color-scheme: dark) { :root { --fg:#e4e8f0; --muted:#a2abbe; --line:#343b49; \
        --bg:#10141b; --card:#181e28; --head:#212836; --link:#8cbcff; --ok:#4ac26b; --bad:#ff8a80; --warn:#e3b341; \
        --pick:#1e3656; --bubble:#262d3a; --reply:#0a58a8; --error:#3a1216; --error-line:#7d1c24; \
        --notice:#0f2d1a; --notice-line:#1f6b35; --track:#2b3342; } }
        * { box-sizing: border-box; }
        body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); \
        background:var(--bg); }
        a { color:var(--link); }
        .skip { position:absolute; left:-999px; top:0; background:var(--card); padding:.5rem; z-index:9; }
        .skip:focus { left:.5rem; }
        :focus-visible { outline:3px solid #6aa8ff; outline-offset:2px; }
        header { background:#14213d; color:#fff; padding:.5rem 1rem; display:flex; flex-wrap:wrap; \
        align-items:center; gap:.75rem; }
        header a { color:#dfe7f5; text-decoration:none; }
        .brand { font-weight:700; font-size:1.1rem; color:#fff; margin-right:1rem; display:flex; gap:.4rem; \
        align-items:center; }
        nav { display:flex; flex-wrap:wrap; gap:.25rem .9rem; align-items:center; flex:1; }
        nav a[aria-current] { color:#fff; border-bottom:2px solid #7fb3ff; }
        .signout { margin-left:auto; display:flex; gap:.5rem; align-items:center; }
        .account { color:#c3cee2; font-size:.9rem; }
        main { max-width:1100px; margin:0 auto; padding:1rem; }
        h1 { font-size:1.4rem; margin:.5rem 0 1rem; }
        h2 { font-size:1.1rem; margin:1.5rem 0 .5rem; }
        .cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:.75rem; }
        .card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.75rem; }
        .card .n { font-size:1.6rem; font-weight:600; }
        .card .l { color:var(--muted); font-size:.85rem; }
        .scroll { overflow-x:auto; }
        table { border-collapse:collapse; width:100%; background:var(--card); border:1px solid var(--line); }
        th, td { text-align:left; padding:.4rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; \
        font-size:.92rem; }
        th { background:var(--head); font-weight:600; }
        tr:focus-within { background:var(--pick); }
        pre, code { overflow-wrap:anywhere; white-space:pre-wrap; }
        pre { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.6rem; }
        form.inline { display:inline; }
        form.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(180px, 1fr)); gap:.6rem; \
        align-items:end; background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.75rem; }
        label { display:flex; flex-direction:column; font-size:.85rem; color:var(--muted); gap:.2rem; }
        input, select, textarea, button { font:inherit; padding:.4rem .5rem; border:1px solid #8891a3; \
        border-radius:6px; background:var(--card); color:var(--fg); max-width:100%; }
        textarea { min-height:5rem; }
        .wide { grid-column:1 / -1; }
        button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
        button.secondary { background:var(--card); color:var(--link); }
        button.danger { background:#c21f2a; border-color:#c21f2a; }
        .status { font-weight:600; }
        .s-delivered { color:var(--ok); } .s-failed, .s-expired { color:var(--bad); \
        } .s-queued, .s-submitting, .s-sent { color:var(--warn); }
        .empty, .muted { color:var(--muted); }
        .pager { display:flex; gap:1.5rem; margin:.8rem 0; }
        .error { background:var(--error); border:1px solid var(--error-line); padding:.6rem; border-radius:6px; }
        .notice { background:var(--notice); border:1px solid var(--notice-line); padding:.6rem; border-radius:6px; }
        .banner { margin-bottom:1rem; } .banner ul { margin:0; padding-left:1.2rem; }
        .teach { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.25rem 1rem 1rem; }
        .login { max-width:380px; margin:3rem auto; }
        .login form { display:flex; flex-direction:column; gap:.75rem; background:var(--card); padding:1rem; \
        border:1px solid var(--line); border-radius:8px; }
        .inbox { display:grid; grid-template-columns:minmax(220px, 340px) 1fr; gap:1rem; align-items:start; }
        .side { display:flex; flex-direction:column; gap:.5rem; min-width:0; }
        .reader { display:flex; flex-direction:column; gap:.6rem; min-width:0; }
        .reader h2 { margin:.4rem 0 0; font-size:1rem; }
        .numbers { list-style:none; margin:0; padding:0; background:var(--card); border:1px solid var(--line); \
        border-radius:8px; max-height:70vh; overflow-y:auto; }
        .numbers li + li { border-top:1px solid var(--line); }
        .numbers a { display:grid; grid-template-columns:1fr auto; gap:0 .5rem; padding:.45rem .6rem; \
        text-decoration:none; color:var(--fg); }
        .numbers a[aria-current] { background:var(--pick); }
        .numbers .who { font-weight:600; } .numbers .when { font-size:.75rem; text-align:right; }
        .numbers .snippet { grid-column:1 / -1; color:var(--muted); font-size:.85rem; white-space:nowrap; \
        overflow:hidden; text-overflow:ellipsis; }
        form.compact { display:grid; grid-template-columns:repeat(auto-fit, minmax(140px, 1fr)); gap:.4rem .6rem; \
        align-items:end; background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.6rem; }
        textarea[rows] { min-height:auto; }
        .phone { width:360px; max-width:100%; border:10px solid #222; border-radius:32px; \
        background:var(--card); padding:1rem .75rem; display:flex; flex-direction:column; gap:.5rem; }
        .thread { display:flex; flex-direction:column-reverse; gap:.5rem; overflow-y:auto; min-height:12rem; \
        max-height:50vh; }
        .phone .to { text-align:center; font-weight:600; border-bottom:1px solid var(--line); padding-bottom:.4rem; }
        .bubble { background:var(--bubble); border-radius:16px; padding:.5rem .75rem; max-width:90%; \
        white-space:pre-wrap; overflow-wrap:anywhere; }
        .bubble .meta { display:block; color:var(--muted); font-size:.75rem; margin-top:.2rem; }
        .bubble.reply { background:var(--reply); color:#fff; align-self:flex-end; }
        .bubble.reply .meta, .bubble.reply a { color:#e3eeff; }
        .bar { background:var(--track); border-radius:6px; height:14px; overflow:hidden; }
        .bar > span { display:block; height:100%; background:var(--accent); }
        svg text { font-size:10px; fill:var(--muted); }
        .legend span { margin-right:1rem; font-size:.85rem; }
        #stats-filter { margin:.75rem 0; }
        .legend i { display:inline-block; width:10px; height:10px; margin-right:.3rem; }
        kbd { border:1px solid var(--line); border-radius:4px; padding:0 .3rem; font-size:.85em; }
        @media (max-width:640px) { .inbox { grid-template-columns:1fr; } .phone { width:100%; } \
        .numbers { max-height:35vh; } \
        main { padding:.75rem; } header { gap:.4rem; } nav { gap:.2rem .7rem; } .signout { margin-left:0; } }
        """

    /// Live updates by polling: an element with `data-refresh="URL"` has its content replaced by that URL's
    /// HTML fragment every two seconds (only while the tab is visible). Keys: `/` goes to the page's search field,
    /// `j` / `k` to the next / previous row (a table row's first link, or a conversation in the inbox list).
    static let js = """
        "use strict";
        \(counterScript)
        function rows() {
          var links = [];
          var all = document.querySelectorAll("main tbody tr, .numbers");
          for (var i = 0; i < all.length; i++) {
            if (all[i].classList.contains("numbers")) {
              var n = all[i].querySelectorAll("a");
              for (var j = 0; j < n.length; j++) links.push(n[j]);
            } else {
              var a = all[i].querySelector("a");
              if (a) links.push(a);
            }
          }
          return links;
        }
        document.addEventListener("keydown", function (e) {
          if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
          var t = e.target;
          var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
          if (typing) {
            if (e.key === "Escape") t.blur();
            return;
          }
          if (e.key === "/") {
            var search = document.querySelector("[data-search], input[type=search]");
            if (search) { e.preventDefault(); search.focus(); search.select(); }
          } else if (e.key === "j" || e.key === "k") {
            var list = rows();
            if (!list.length) return;
            var at = list.indexOf(document.activeElement);
            var next = at < 0 ? (e.key === "j" ? 0 : list.length - 1) : at + (e.key === "j" ? 1 : -1);
            if (next < 0 || next >= list.length) return;
            e.preventDefault();
            list[next].focus();
            list[next].scrollIntoView({ block: "nearest" });
          }
        });
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

    /// A live counter for a `textarea[data-counter=ID]`: characters, encoding and parts into the element ID, counted
    /// as `SMSText` counts (GSM 03.38 septets, extension characters twice, else UTF-16 units; parts of 153 / 67,
    /// a character never split). The alphabets come from PetrelCore, so the two cannot drift apart.
    static var counterScript: String {
        func literal(_ s: String) -> String {
            var out = "\""
            for unit in s.utf16 {
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
            return out + "\""
        }
        return """
            var GSM_BASIC = \(literal(GSM0338.alphabet)), GSM_EXT = \(literal(GSM0338.extensionCharacters));
            function smsCount(text) {
              var gsm = true, septets = 0, chars = Array.from(text);
              for (var i = 0; i < chars.length && gsm; i++) {
                if (GSM_BASIC.indexOf(chars[i]) >= 0) septets += 1;
                else if (GSM_EXT.indexOf(chars[i]) >= 0) septets += 2;
                else gsm = false;
              }
              var units = gsm ? septets : text.length, single = gsm ? 160 : 70, limit = gsm ? 153 : 67, parts = 1;
              if (units > single) {
                var used = 0;
                chars.forEach(function (c) {
                  var cost = gsm ? (GSM_EXT.indexOf(c) >= 0 ? 2 : 1) : c.length;
                  if (used + cost > limit) { parts += 1; used = 0; }
                  used += cost;
                });
              }
              return { units: units, encoding: gsm ? "GSM-7" : "UCS-2", parts: parts };
            }
            document.addEventListener("DOMContentLoaded", function () {
              document.querySelectorAll("textarea[data-counter]").forEach(function (t) {
                var out = document.getElementById(t.getAttribute("data-counter"));
                function show() {
                  var n = smsCount(t.value);
                  out.textContent = n.units + " characters · " + n.encoding +
                    " · " + n.parts + (n.parts === 1 ? " part" : " parts");
                }
                t.addEventListener("input", show);
                show();
              });
            });
            """
    }
}
