"""catbreed's app: the entry point only builds the navigation and runs the chosen page."""

import streamlit as st

# Streamlit runs this file as "__main__" and leaves it in sys.modules while a page runs, so the
# training worker that a page starts (multiprocessing's "spawn") imports it again, as
# "__mp_main__": there it must neither draw the app nor import the pages (and TensorFlow with them).
if __name__ == "__main__":
    from pages.shared import admitted, let_in, sign_out_button

    st.set_page_config(page_title="catbreed", page_icon="🐈", layout="wide")

    pages = [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/classify.py", title="Classify", icon=":material/photo_camera:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
        st.Page("pages/models.py", title="Models", icon=":material/folder_open:"),
        st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
    ]
    if admitted():
        sign_out_button()
        st.navigation(pages).run()
    else:  # no pass yet, or the operator's password not given: no page, not even their names in the menu
        st.navigation(pages, position="hidden")
        let_in()
