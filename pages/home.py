import streamlit as st

from pages.frame.shared import BUILTIN_NAME, PAGES, chosen_model, expected_accuracy_text, plain

st.title("catbreed")
st.markdown(
    "Teach a computer to tell cat breeds apart, right here in your browser, offline.  \n"
    "Collect photos of each breed (a zip with one folder per breed, or snapshot by snapshot with the webcam) and "
    "a pretrained CNN learns them; it tells you how long that will take before it starts, and how often it will "
    "be right on photos it has never seen. Fix what it got wrong in place and train again.  \n"
    "Then snap your cat with the webcam and see which breed it thinks it is, and why."
)

choice = chosen_model()
model = choice.model
if choice.notice:
    st.warning(plain(choice.notice), icon=":material/warning:")
with st.container(border=True):
    st.caption("Your model")
    if model is None:
        st.subheader(BUILTIN_NAME)
        st.write(
            "No breed model trained yet: the pretrained CNN names ImageNet's 1000 classes, five cat breeds among them."
        )
    else:
        st.subheader(plain(model.name), anchor=False)
        st.write(f"{len(model.classes)} breeds · {expected_accuracy_text(model)} · trained {model.created[:10]}")

others = PAGES[1:]  # every page but this one
for column, page in zip(st.columns(len(others)), others):
    with column:
        st.page_link(page.path, label=page.invitation, icon=page.icon)
