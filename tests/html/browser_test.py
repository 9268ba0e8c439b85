#!/usr/bin/python3
"""The `mmsim --html` page in a real browser: headless Chromium through chromedriver and
Selenium (Debian's chromium, chromium-driver and python3-selenium; tools/install_deps.sh
installs them). Steps forward and back, expands a call, selects a process, and checks what
the page shows against what mmsim itself prints for the same scenario (a pfn, a maps line,
a TLB entry, a result).

  browser_test.py MMSIM SCENARIO

A missing browser, driver or Selenium is a failure with a message saying what to install.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MISSING = []
for path in (CHROMIUM, CHROMEDRIVER):
    if not os.access(path, os.X_OK):
        MISSING.append(path)
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
except ImportError as e:  # pragma: no cover - reported as a failure below
    MISSING.append("python3-selenium (%s, for %s)" % (e, sys.executable))

MMSIM = None
SCENARIO = None


def run_mmsim(*args):
    p = subprocess.run([MMSIM] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if MISSING:
            raise AssertionError(
                "the browser test needs Debian's chromium, chromium-driver and python3-selenium "
                "(tools/install_deps.sh installs them); missing: " + ", ".join(MISSING))
        cls.tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        cls.page = os.path.join(cls.tmp, "run.html")
        rc, cls.html_stdout, err = run_mmsim("--html=" + cls.page, SCENARIO)
        assert rc == 0, "mmsim --html failed (%d): %s" % (rc, err)
        rc, cls.stdout, err = run_mmsim(SCENARIO)
        assert rc == 0, err
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                     "--window-size=1400,1000",
                     "--user-data-dir=" + os.path.join(cls.tmp, "profile")):
            opts.add_argument(flag)
        cls.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
        cls.driver.set_page_load_timeout(20)
        cls.driver.get("file://" + cls.page)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "driver", None) is not None:
            cls.driver.quit()
        if getattr(cls, "tmp", None):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----
    def by_id(self, ident):
        return self.driver.find_element(By.ID, ident)

    def step_items(self):
        return self.driver.find_elements(By.CSS_SELECTOR, "#steps li")

    def current_stmt(self):
        return self.by_id("stmt").text

    def go_to_line(self, line):
        """Clicks the step of scenario line `line` in the step list."""
        items = self.driver.find_elements(
            By.XPATH, "//ol[@id='steps']/li[starts-with(normalize-space(.), '[%d] ')]" % line)
        self.assertEqual(len(items), 1, "want one step for line %d" % line)
        items[0].click()
        self.assertTrue(self.current_stmt().startswith("[%d] " % line), self.current_stmt())

    def mmsim_said(self, pattern):
        m = re.search(pattern, self.stdout, re.M)
        self.assertIsNotNone(m, "mmsim's output has no match for %r" % pattern)
        return m

    # ---- tests (unittest runs them in name order) ----
    def test_0_same_output_and_steps(self):
        # --html changes nothing mmsim prints.
        self.assertEqual(self.html_stdout, self.stdout)
        # One step per statement, in order; the page opens at the first.
        lines = [int(m.group(1)) for m in re.finditer(r"^\[(\d+)\] ", self.stdout, re.M)]
        items = self.step_items()
        texts = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#steps li')).map(e => e.textContent);")
        self.assertEqual([int(re.match(r"\[(\d+)\]", t).group(1)) for t in texts], lines)
        self.assertIn("step 1 of %d" % len(items), self.by_id("pos").text)
        self.assertTrue(self.current_stmt().startswith("[3] machine"))

    def test_1_forward_and_back(self):
        self.driver.find_element(By.ID, "first").click()
        nxt, prev = self.by_id("next"), self.by_id("prev")
        nxt.click()
        nxt.click()
        # Line 5: the mmap, and its result as mmsim printed it.
        self.assertTrue(self.current_stmt().startswith("[5] parent: mmap 0x400000"), self.current_stmt())
        self.assertIn("= 0x400000", self.by_id("out").text)
        self.assertIn("step 3 of", self.by_id("pos").text)
        prev.click()
        self.assertTrue(self.current_stmt().startswith("[4] process parent"))
        self.assertIn("= pid 4", self.by_id("out").text)
        # The keyboard: right arrow forward, left arrow back.
        body = self.driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.ARROW_RIGHT)
        body.send_keys(Keys.ARROW_RIGHT)
        self.assertTrue(self.current_stmt().startswith("[6] expect 0x400000"), self.current_stmt())
        self.assertIn("[6] expect 0x400000 ok", self.by_id("out").text)
        body.send_keys(Keys.ARROW_LEFT)
        self.assertTrue(self.current_stmt().startswith("[5] "))

    def test_2_expand_a_call(self):
        # The child's store breaks COW: a page fault through the kernel, with the hardware
        # events (TLB miss, page walk, #PF) inside.
        self.go_to_line(10)
        calls = self.driver.find_elements(By.CSS_SELECTOR, "#trace details.call")
        self.assertTrue(calls, "no kernel calls shown for the COW store")
        fault = None
        for d in calls:
            # textContent: a collapsed call's summary is not displayed, so has no .text
            s = d.find_element(By.TAG_NAME, "summary").get_attribute("textContent")
            if s.startswith("handle_mm_fault("):
                fault = d
                break
        self.assertIsNotNone(fault, "no handle_mm_fault among %d calls" % len(calls))
        top = calls[0]
        self.assertIsNone(top.get_attribute("open"))
        # Collapsed: its children are not displayed.
        inner = top.find_elements(By.CSS_SELECTOR, ":scope > details, :scope > .leaf")
        self.assertTrue(inner)
        self.assertFalse(inner[0].is_displayed())
        top.find_element(By.TAG_NAME, "summary").click()
        self.assertIsNotNone(top.get_attribute("open"))
        self.assertTrue(inner[0].is_displayed())
        # Expand all: the hardware events of the fault show.
        self.by_id("expand").click()
        # (One script call for all of them: a WebDriver round trip per element is slow.)
        hw = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#trace .hw'))"
            ".filter(e => e.offsetParent !== null).map(e => e.textContent);")
        self.assertTrue(any("fault" in t for t in hw), hw[:10])
        self.assertTrue(any("tlb_miss" in t for t in hw), hw[:10])
        # The fault's result, and inside it the COW copy with the child's new pfn.
        pfn_child = self.mmsim_said(r"^\[15\] show pagemap child.*\n0x000000400000\s.*?present pfn=(0x[0-9a-f]+)").group(1)
        self.assertRegex(fault.find_element(By.TAG_NAME, "summary").text, r"^handle_mm_fault\(addr=0x400000 .*\) = ")
        self.assertIn("wp_page_copy addr=0x400000 old_pfn=", fault.text)
        self.assertIn("new_pfn=" + pfn_child, fault.text)
        # Collapse all hides them again.
        self.by_id("collapse").click()
        self.assertFalse(inner[0].is_displayed())

    def test_3_select_a_process(self):
        pfn_parent = self.mmsim_said(r"^\[14\] show pagemap parent.*\n0x000000400000\s.*?present pfn=(0x[0-9a-f]+)").group(1)
        pfn_child = self.mmsim_said(r"^\[15\] show pagemap child.*\n0x000000400000\s.*?present pfn=(0x[0-9a-f]+)").group(1)
        self.assertNotEqual(pfn_parent, pfn_child)  # COW broken
        self.go_to_line(16)
        sel = Select(self.by_id("proc"))
        self.assertEqual([o.text for o in sel.options], ["parent (pid 4)", "child (pid 5)"])
        # The parent is selected first; its PTE for 0x400000 has the parent's pfn.
        leaf = self.driver.find_element(By.CSS_SELECTOR, "#ptsvg text.leaf[data-va='0x400000']")
        self.assertEqual(leaf.get_attribute("data-pfn"), pfn_parent)
        self.assertNotIn("RW", leaf.get_attribute("data-flags").split())  # write-protected by fork
        sel.select_by_visible_text("child (pid 5)")
        leaf = self.driver.find_element(By.CSS_SELECTOR, "#ptsvg text.leaf[data-va='0x400000']")
        self.assertEqual(leaf.get_attribute("data-pfn"), pfn_child)
        self.assertIn("RW", leaf.get_attribute("data-flags").split())
        self.assertIn("pfn " + pfn_child, leaf.text)
        # All four levels are drawn.
        levels = {g.get_attribute("data-level") for g in self.driver.find_elements(By.CSS_SELECTOR, "#ptsvg g.table")}
        self.assertEqual(levels, {"PML4", "PDPT", "PD", "PT"})
        # /proc/5/maps as `show maps child` printed it.
        maps_line = self.mmsim_said(r"^\[16\] show maps child\n(00400000-00402000 [^\n]*)").group(1)
        self.assertEqual(self.by_id("mapspid").text, "5")
        self.assertIn(maps_line.rstrip(), self.by_id("maps").text)
        # The selection is kept while stepping.
        self.by_id("next").click()
        self.assertEqual(Select(self.by_id("proc")).first_selected_option.text, "child (pid 5)")

    def test_4_tlb(self):
        self.go_to_line(17)
        entry = self.mmsim_said(r"^\s+(L1 va:0x400000 -> pa:0x[0-9a-f]+ 4K[^\n]*)").group(1)
        self.assertIn(entry, self.by_id("tlb-cpu0").text)
        # Its pa is the child's page: the last access was the child's load.
        pfn_child = self.mmsim_said(r"^\[15\] show pagemap child.*\n0x000000400000\s.*?present pfn=(0x[0-9a-f]+)").group(1)
        self.assertIn("pa:%#x " % (int(pfn_child, 16) << 12), entry + " ")
        # Going back to before the fork shows the TLB as it was then: no child's page.
        self.go_to_line(7)
        self.assertNotIn("pa:%#x " % (int(pfn_child, 16) << 12), self.by_id("tlb-cpu0").text)

    def test_5_end_of_run(self):
        self.driver.find_element(By.ID, "last").click()
        self.assertTrue(self.current_stmt().startswith("[17] show tlb 0"))
        self.assertIn("0 expectations failed", self.by_id("summary").text)
        self.assertIn("exit status 0", self.by_id("title").text)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: browser_test.py MMSIM SCENARIO")
    MMSIM = os.path.abspath(sys.argv[1])
    SCENARIO = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]])
