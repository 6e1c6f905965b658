"""The monthly review pack: one self-contained HTML file both teams read.

`gather` queries the warehouse (judged scorecard, marts, raw tables) into plain data;
`bottleneck` attributes the revenue gap to stages; `svg` draws the charts; `sections` and
`render` turn the data into HTML. Nothing here fetches anything at view time: the file opens
offline and travels as an e-mail attachment.
"""
