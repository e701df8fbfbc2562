// dcc.Upload refuses a file over its max_size without a word: say so, naming the file and the limit.
// The limit is the one the server enforces, written on the page by the Data tab (data-max-bytes).
(function () {
    function check(event) {
        var target = event.target;
        if (!target || !target.closest || !target.closest("#upload")) {
            return;
        }
        var limitNode = document.getElementById("upload-limit");
        var files = (event.dataTransfer || target).files || [];
        if (!limitNode || !window.dash_clientside || !window.dash_clientside.set_props) {
            return;
        }
        var limit = Number(limitNode.dataset.maxBytes);
        for (var i = 0; i < files.length; i++) {
            if (files[i].size > limit) {
                window.dash_clientside.set_props("upload-error", {
                    children: files[i].name + " is " + (files[i].size / 1048576).toFixed(1) +
                        " MB; the limit is " + (limit / 1048576) + " MB. Upload a smaller or compressed file."
                });
                return;
            }
        }
    }
    document.addEventListener("change", check, true);
    document.addEventListener("drop", check, true);
})();
