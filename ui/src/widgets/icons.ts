// The app's icons, drawn as inline SVG built with DOM calls. A symbol character (a play
// triangle, U+23F8 pause, a cross, a telephone) is drawn by whatever font the system has, and
// many desktops (and Xvfb) have none with it: the operator then sees a missing-glyph box. These
// ship with the app and take the text's colour and size (`currentColor`, 1em), so they sit in
// a button like a letter would.
const SVG = "http://www.w3.org/2000/svg";

/** Each icon on a 16×16 grid: filled shapes, or strokes for the lines of `close`. */
const SHAPES = {
  play: { fill: ["M4.5 2.6v10.8a.6.6 0 0 0 .9.5l8.6-5.4a.6.6 0 0 0 0-1L5.4 2.1a.6.6 0 0 0-.9.5z"] },
  pause: { fill: ["M4 2.5h2.8v11H4z", "M9.2 2.5H12v11H9.2z"] },
  close: { stroke: ["M4 4l8 8", "M12 4l-8 8"] },
} satisfies Record<string, { fill?: string[]; stroke?: string[] }>;

export type IconName = keyof typeof SHAPES;

/** The icon `name`, decorative (hidden from screen readers: the button's words say what it does). */
export function icon(name: IconName): SVGSVGElement {
  const root = document.createElementNS(SVG, "svg");
  for (const [attr, value] of Object.entries({
    viewBox: "0 0 16 16",
    width: "1em",
    height: "1em",
    class: `icon icon-${name}`,
    "aria-hidden": "true",
    focusable: "false",
  })) {
    root.setAttribute(attr, value);
  }
  const shape: { fill?: string[]; stroke?: string[] } = SHAPES[name];
  for (const d of shape.fill ?? []) root.appendChild(path(d, { fill: "currentColor" }));
  for (const d of shape.stroke ?? []) {
    root.appendChild(path(d, { fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round" }));
  }
  return root;
}

function path(d: string, attrs: Record<string, string>): SVGPathElement {
  const el = document.createElementNS(SVG, "path");
  el.setAttribute("d", d);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  return el;
}
