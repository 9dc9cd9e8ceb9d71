"""A combo box of layer names that elides a long name in the middle, so similar names stay apart.

Medical images come with names such as ``Flair_subtrMeanDivStd``; elided at the right, as Qt does,
the image, scribble and accept-into boxes all read ``Flair_subtrM...``. Eliding in the middle keeps the
start (a derived layer's role, "scribbles: ...") and the end. ``currentText()`` is the full name, shown
whole in the tooltip and in the drop-down list when it fits.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter


class LayerCombo(QComboBox):
    """:class:`QComboBox` of layer names, elided in the middle (:meth:`shown_text`)."""

    def __init__(self, min_chars: int = 14) -> None:
        super().__init__()
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(min_chars)
        self.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.currentTextChanged.connect(self.setToolTip)

    def shown_text(self) -> str:
        """The current name as the box draws it: elided in the middle to the width of its text field."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideMiddle, field.width())

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
