// Building page elements without innerHTML: every value goes in as an attribute or a text node, so
// nothing a file name or an API answer holds is ever parsed as markup.

/** The page element with this id. */
export const $ = (id) => document.getElementById(id);

/**
 * `el("li", { class: "x", text: "hi", onclick: f }, child, ...)`: a new element. `text` sets its
 * text, `on<event>` adds a listener, `true` sets an empty attribute; `null`, `undefined` and `false`
 * are left out; children (nested arrays allowed) are nodes or strings.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child != null) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
