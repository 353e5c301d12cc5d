// Tags: the list operators pick from in a call's wrap-up, and whether a wrap-up needs one. The
// list is edited here and saved whole.
import { get, put } from "../api";
import type { Page } from "../app";
import type { TeamTags } from "../bindings/TeamTags";
import { button, h, replace } from "../dom";
import { describe, Form, input } from "../forms";
import { t } from "../i18n";

export function tagsPage(): Page {
  let tags: string[] = [];
  const list = h("ul", { class: "chips", id: "tags-list", "aria-label": t.pageTags });
  const draw = () => {
    if (!tags.length) {
      replace(list, h("li", { class: "muted", text: t.tagsEmpty }));
      return;
    }
    replace(
      list,
      ...tags.map((tag, i) =>
        h(
          "li",
          { class: "chip" },
          h("bdi", { text: tag }),
          button("×", () => {
            tags.splice(i, 1);
            draw();
            (list.querySelector("button") ?? newTag).focus();
          }, { class: "chip-remove", "aria-label": t.tagRemove(tag) }),
        ),
      ),
    );
  };
  const newTag = input("text", { id: "tag-new", autocomplete: "off" });
  const addTag = () => {
    const v = newTag.value.trim();
    if (v && !tags.includes(v)) tags.push(v);
    newTag.value = "";
    draw();
    newTag.focus();
  };
  newTag.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      addTag();
    }
  });
  const form = new Form("tags-form", async () => {
    if (newTag.value.trim()) addTag();
    const required = (form.control("required") as HTMLInputElement).checked;
    const saved = await put<TeamTags>("/tags", { tags, required });
    if (saved && Array.isArray(saved.tags)) {
      tags = [...saved.tags];
      draw();
    }
    form.say(t.saved);
  });
  form.add(list);
  form.field("tags", t.tagsNew, newTag);
  form.add(h("div", { class: "inline-actions" }, button(t.add, addTag, { id: "tag-add" })));
  const required = form.field("required", t.tagsRequired, input("checkbox", { id: "tags-required", role: "switch" })) as HTMLInputElement;
  form.buttons(t.save);
  const status = h("p", { class: "form-status error", role: "alert", hidden: true });
  void (async () => {
    try {
      const answer = await get<TeamTags>("/tags");
      tags = [...answer.tags];
      required.checked = answer.required;
      draw();
    } catch (e) {
      status.textContent = describe(e);
      status.hidden = false;
    }
  })();
  return { root: h("div", { class: "stack" }, status, h("section", { class: "card narrow-card" }, h("p", { class: "hint", text: t.tagsIntro }), form.root)) };
}
