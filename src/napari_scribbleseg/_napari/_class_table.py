"""The class table: label value, name, colour and which class is the background."""

from __future__ import annotations

from dataclasses import dataclass

from qtpy.QtCore import Signal
from qtpy.QtGui import QColor
from qtpy.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_scribbleseg._napari._signals import on

#: Colours of classes 1, 2, ... (colour-blind friendly, Okabe-Ito), repeated beyond 8.
PALETTE = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#999999"]


@dataclass(frozen=True)
class LabelClass:
    value: int
    name: str
    color: str
    background: bool = False


class ClassTable(QWidget):
    """Editable list of classes; class ``value`` is what the scribble layer paints.

    Emits ``changed`` when a name, colour or the background class changes, ``selected(int)`` when the user
    picks a row (the widget then makes that class the brush's label).
    """

    changed = Signal()
    selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["name", "colour", "background"])
        self.table.verticalHeader().setVisible(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemChanged.connect(self._item_changed)
        self.table.currentCellChanged.connect(lambda row, *_: row >= 0 and self.selected.emit(row + 1))
        add, remove = QPushButton("+ class"), QPushButton("- class")
        on(add.clicked, self.add_class)
        on(remove.clicked, self.remove_last)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.table.setMinimumHeight(120)
        self.table.setMaximumHeight(180)
        self.table.setColumnWidth(0, 110)
        self.table.setColumnWidth(1, 60)
        self.add_class("object")
        self.add_class("background", background=True)

    def add_class(self, name: str | None = None, color: str | None = None, background: bool = False) -> int:
        """Append a class; returns its label value (row + 1)."""
        row = self.table.rowCount()
        value = row + 1
        self.table.blockSignals(True)
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name or f"class {value}"))
        swatch = QPushButton()
        on(swatch.clicked, self._pick_color, row)
        self.table.setCellWidget(row, 1, swatch)
        self._set_color(row, color or PALETTE[row % len(PALETTE)])
        check = QTableWidgetItem()
        check.setCheckState(_checked(background))
        self.table.setItem(row, 2, check)
        self.table.blockSignals(False)
        self.changed.emit()
        return value

    def remove_last(self) -> None:
        if self.table.rowCount() > 1:
            self.table.removeRow(self.table.rowCount() - 1)
            self.changed.emit()

    def classes(self) -> list[LabelClass]:
        return [
            LabelClass(
                row + 1,
                self.table.item(row, 0).text(),
                self.table.cellWidget(row, 1).property("color"),
                self.table.item(row, 2).checkState() == _checked(True),
            )
            for row in range(self.table.rowCount())
        ]

    def background(self) -> list[int]:
        """Label values of the background class(es): predicted, shown faintly, never accepted."""
        return [c.value for c in self.classes() if c.background]

    def colors(self) -> dict[int, str]:
        return {c.value: c.color for c in self.classes()}

    def select(self, value: int) -> None:
        """Highlight the row of class ``value`` (does nothing for unknown values)."""
        if 1 <= value <= self.table.rowCount():
            self.table.setCurrentCell(value - 1, 0)

    def set_color(self, value: int, color: str) -> None:
        self._set_color(value - 1, color)
        self.changed.emit()

    def _set_color(self, row: int, color: str) -> None:
        swatch = self.table.cellWidget(row, 1)
        swatch.setProperty("color", QColor(color).name())
        swatch.setStyleSheet(f"background-color: {QColor(color).name()};")

    def _pick_color(self, row: int) -> None:
        color = QColorDialog.getColor(QColor(self.table.cellWidget(row, 1).property("color")), self)
        if color.isValid():
            self.set_color(row + 1, color.name())

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 2 and item.checkState() == _checked(True):
            # one background class: checking one unchecks the others
            self.table.blockSignals(True)
            for row in range(self.table.rowCount()):
                if row != item.row():
                    self.table.item(row, 2).setCheckState(_checked(False))
            self.table.blockSignals(False)
        self.changed.emit()


def _checked(on: bool):
    from qtpy.QtCore import Qt

    return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
