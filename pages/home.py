import streamlit as st

from pages.frame.language import said, t
from pages.frame.shared import PAGES, chosen_model, expected_accuracy_text, plain

st.title("catbreed")
st.markdown(t("home.intro"))

choice = chosen_model()
model = choice.model
if choice.notice:
    st.warning(plain(said(choice.notice)), icon=":material/warning:")
with st.container(border=True):
    st.caption(t("home.your_model"))
    if model is None:
        st.subheader(t("builtin.name"))
        st.write(t("home.builtin"))
    else:
        st.subheader(plain(model.name), anchor=False)
        st.write(
            t("home.model_line", n=len(model.classes), accuracy=expected_accuracy_text(model), date=model.created[:10])
        )

others = PAGES[1:]  # every page but this one
for column, page in zip(st.columns(len(others)), others):
    with column:
        st.page_link(page.path, label=t(page.invitation), icon=page.icon)
