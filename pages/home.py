import io

import segno
import streamlit as st

from catbreed.serving import SERVE_HTTPS, phone_urls
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


def qr_code(url: str) -> bytes:
    image = io.BytesIO()
    segno.make(url, error="m").save(image, kind="png", scale=6, border=2)
    return image.getvalue()


with st.expander(t("home.phone"), icon=":material/smartphone:"):
    https = bool(st.get_option("server.sslCertFile"))
    urls = phone_urls(st.get_option("server.address") or "", st.get_option("server.port"), https, st.context.url or "")
    if not urls:
        st.write(t("home.phone_not_served"))
        st.code(SERVE_HTTPS, language="bash")
    else:
        code, words = st.columns([1, 2])
        code.image(qr_code(urls[0]), caption=t("home.phone_scan"), width=180)
        with words:
            for url in urls:
                st.code(url, language=None)
            st.write(t("home.phone_https" if https else "home.phone_no_camera"))
