// A tiny element builder. Text is only ever set with textContent: names and numbers come from
// outside (the PBX, callers) and must never be read as HTML.

type Attrs = Record<string, string | boolean | number | undefined | null>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = String(value);
    else if (name === "text") el.textContent = String(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Sets a table's header row to these column titles. */
export function setHeader(table: HTMLTableElement, titles: string[]): void {
  const head = table.tHead;
  if (!head) return;
  replace(head, h("tr", {}, ...titles.map((text) => h("th", { scope: "col", text }))));
}

/** A table whose header row has these column titles and whose body starts empty. */
export function table(className: string, titles: string[], attrs: Attrs = {}): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h("tbody");
  const head = h("thead", {}, h("tr", {}, ...titles.map((text) => h("th", { scope: "col", text }))));
  return { table: h("table", { class: `grid ${className}`, ...attrs }, head, body), body };
}

/** A row of cells, each a text or an element. */
export function row(cells: (string | Node)[], attrs: Attrs = {}): HTMLTableRowElement {
  return h("tr", attrs, ...cells.map((cell) => (typeof cell === "string" ? h("td", { text: cell }) : h("td", {}, cell))));
}

/** A button that runs `action` when pressed. */
export function button(text: string, action: () => void, attrs: Attrs = {}): HTMLButtonElement {
  const b = h("button", { type: "button", text, ...attrs });
  b.addEventListener("click", action);
  return b;
}

/** A table's scrolling box: reachable by keyboard (a scrolled region must be), named for readers. */
export function scroller(label: Attrs, child: Node): HTMLDivElement {
  return h("div", { class: "scroll", tabindex: "0", role: "region", ...label }, child);
}
