# A page as an HTML parser reads it: every element in document order with its attributes and
# its own text (entities decoded), the end tags, and the elements left open; printed as JSON.
#
# html.parser ends a <script> at the first "</script>", which browsers do not: after "<!--"
# they take "<script" as the start of a nested script (the "script data double escaped" state)
# whose end "</script>" then is, so a page whose inline data holds "<!--<script>" loses its own
# script and everything after it. Here a script's end is found by the tokenizer's script data
# states as the HTML standard gives them.
#
#   python3 html_page.py PAGE.html
import html.parser
import json
import re
import sys

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def script_end(text, i):
    """Where the end tag that ends a script whose text starts at text[i] begins, or -1."""
    state, name, tag_at = "data", "", -1
    while i < len(text):
        c = text[i]
        alpha = c.isascii() and c.isalpha()
        ends_name = c in "\t\n\f />"
        again = False  # the standard's "reconsume": c again, in the new state
        if state == "data":
            if c == "<":
                state = "less-than"
        elif state == "less-than":
            if c == "/":
                state, name, tag_at = "end tag", "", i - 1
            elif c == "!":
                state = "escape start"
            else:
                state, again = "data", True
        elif state == "escape start":
            if c == "-":
                state = "escape start dash"
            else:
                state, again = "data", True
        elif state == "escape start dash":
            if c == "-":
                state = "escaped dash dash"
            else:
                state, again = "data", True
        elif state in ("escaped", "escaped dash", "escaped dash dash"):
            if c == "-":
                state = "escaped dash" if state == "escaped" else "escaped dash dash"
            elif c == "<":
                state = "escaped less-than"
            elif c == ">" and state == "escaped dash dash":
                state = "data"
            else:
                state = "escaped"
        elif state == "escaped less-than":
            if c == "/":
                state, name, tag_at = "escaped end tag", "", i - 1
            elif alpha:
                state, name, again = "double escape start", "", True
            else:
                state, again = "escaped", True
        elif state in ("end tag", "escaped end tag"):
            back = "data" if state == "end tag" else "escaped"
            if alpha:
                name += c.lower()
            elif ends_name and name == "script":
                return tag_at
            else:
                state, again = back, True
        elif state == "double escape start":
            if ends_name:
                state = "double escaped" if name == "script" else "escaped"
            elif alpha:
                name += c.lower()
            else:
                state, again = "escaped", True
        elif state in ("double escaped", "double escaped dash", "double escaped dash dash"):
            if c == "-":
                state = "double escaped dash" if state == "double escaped" else "double escaped dash dash"
            elif c == "<":
                state = "double escaped less-than"
            elif c == ">" and state == "double escaped dash dash":
                state = "data"
            else:
                state = "double escaped"
        elif state == "double escaped less-than":
            if c == "/":
                state, name = "double escape end", ""
            else:
                state, again = "double escaped", True
        elif state == "double escape end":
            if ends_name:
                state = "escaped" if name == "script" else "double escaped"
            elif alpha:
                name += c.lower()
            else:
                state, again = "double escaped", True
        if not again:
            i += 1
    return -1


class ScriptEnd:
    """Stands in for html.parser's pattern for where a script ends."""

    def search(self, text, i):
        at = script_end(text, i)
        return None if at < 0 else re.compile("").match(text, at)


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements, self.open, self.ends = [], [], []

    def set_cdata_mode(self, elem, **kwargs):  # newer Pythons pass escapable=
        super().set_cdata_mode(elem, **kwargs)
        if self.cdata_elem == "script":
            self.interesting = ScriptEnd()

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": ""})

    def handle_endtag(self, tag):
        self.ends.append(tag)
        if any(e["tag"] == tag for e in self.open):
            while self.open.pop()["tag"] != tag:
                pass

    def handle_data(self, data):
        if self.open:
            self.open[-1]["text"] += data


page = Page()
with open(sys.argv[1], encoding="utf-8") as f:
    page.feed(f.read())
page.close()
print(json.dumps({"elements": page.elements, "ends": page.ends, "open": [e["tag"] for e in page.open]}))
