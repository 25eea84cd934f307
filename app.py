"""catbreed's app: the entry point only builds the navigation and runs the chosen page."""

import streamlit as st

from pages.shared import ask_for_password, locked

st.set_page_config(page_title="catbreed", page_icon="🐈", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/classify.py", title="Classify", icon=":material/photo_camera:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/models.py", title="Models", icon=":material/folder_open:"),
    st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
]
if locked():  # an operator's password, not given yet: no page, not even their names in the menu
    st.navigation(pages, position="hidden")
    ask_for_password()
else:
    st.navigation(pages).run()
