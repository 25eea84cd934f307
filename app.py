"""catbreed's app: the entry point only builds the navigation and runs the chosen page."""

import streamlit as st

st.set_page_config(page_title="catbreed", page_icon="🐈", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/classify.py", title="Classify", icon="📷"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/models.py", title="Models", icon="🗂️"),
]
st.navigation(pages).run()
