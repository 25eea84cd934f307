import streamlit as st

from pages.shared import BUILTIN_NAME, chosen_model, expected_accuracy_text, plain, run_inside_navigation

run_inside_navigation()

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

links = {
    "pages/classify.py": ("Classify a photo", ":material/photo_camera:"),
    "pages/train.py": ("Train on your photos", ":material/model_training:"),
    "pages/models.py": ("Manage models", ":material/folder_open:"),
    "pages/learn.py": ("Learn how it sees", ":material/school:"),
}
for column, (page, (label, icon)) in zip(st.columns(len(links)), links.items()):
    with column:
        st.page_link(page, label=label, icon=icon)
