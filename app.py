"""catbreed's app: the entry point only builds the navigation and runs the chosen page."""

import streamlit as st

# Streamlit runs this file as "__main__" and leaves it in sys.modules while a page runs, so the
# training worker that a page starts (multiprocessing's "spawn") imports it again, as
# "__mp_main__": there it must neither draw the app nor import the pages (and TensorFlow with them).
if __name__ == "__main__":
    from pages.frame.language import language_switch, t
    from pages.frame.shared import PAGES, admitted, let_in, sign_out_button, tidied_up

    st.set_page_config(page_title="catbreed", page_icon="🐈", layout="wide")
    tidied_up()
    pages = [st.Page(p.path, title=t(p.title), icon=p.icon, default=p is PAGES[0]) for p in PAGES]
    if admitted():
        language_switch()
        sign_out_button()
        st.navigation(pages).run()
    else:  # no pass yet, or the operator's password not given: no page, not even their names in the menu
        st.navigation(pages, position="hidden")
        let_in()
